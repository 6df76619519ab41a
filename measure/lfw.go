package measure

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/facecheck/facecheck/engine"
)

// Pair is one LFW verification pair.
type Pair struct {
	A, B string // image paths relative to the root
	Same bool
}

// ReadLFWPairs parses the standard pairs.txt: a header "folds n", then per
// fold n matched lines "name i j" and n mismatched lines "name1 i name2 j".
// Images are <root>/<name>/<name>_<%04d>.jpg.
func ReadLFWPairs(r io.Reader) (folds [][]Pair, err error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return nil, fmt.Errorf("lfw pairs: empty file")
	}
	head := strings.Fields(sc.Text())
	if len(head) != 2 {
		return nil, fmt.Errorf("lfw pairs: header %q, want \"folds pairs\"", sc.Text())
	}
	nf, err1 := strconv.Atoi(head[0])
	np, err2 := strconv.Atoi(head[1])
	if err1 != nil || err2 != nil || nf < 2 || np < 1 || nf > 100 || np > 100000 {
		return nil, fmt.Errorf("lfw pairs: bad header %q", sc.Text())
	}
	img := func(name, n string) (string, error) {
		i, err := strconv.Atoi(n)
		if err != nil {
			return "", fmt.Errorf("image number %q", n)
		}
		return filepath.Join(name, fmt.Sprintf("%s_%04d.jpg", name, i)), nil
	}
	line := 1
	for f := 0; f < nf; f++ {
		var fold []Pair
		for k := 0; k < 2*np; k++ {
			if !sc.Scan() {
				return nil, fmt.Errorf("lfw pairs: fold %d ends at line %d, want %d pairs", f+1, line, 2*np)
			}
			line++
			fl := strings.Fields(sc.Text())
			var p Pair
			var ea, eb error
			switch len(fl) {
			case 3:
				p.Same = true
				p.A, ea = img(fl[0], fl[1])
				p.B, eb = img(fl[0], fl[2])
			case 4:
				p.A, ea = img(fl[0], fl[1])
				p.B, eb = img(fl[2], fl[3])
			default:
				return nil, fmt.Errorf("lfw pairs: line %d: %q", line, sc.Text())
			}
			if ea != nil || eb != nil {
				return nil, fmt.Errorf("lfw pairs: line %d: %v %v", line, ea, eb)
			}
			fold = append(fold, p)
		}
		folds = append(folds, fold)
	}
	return folds, sc.Err()
}

// LFWReport is the 10-fold result.
type LFWReport struct {
	Folds      int       `json:"folds"`
	Pairs      int       `json:"pairs"`
	Undetected int       `json:"undetected_images"`
	Accuracy   float64   `json:"accuracy_mean"`
	Std        float64   `json:"accuracy_std"`
	PerFold    []float64 `json:"accuracy_per_fold"`
	Thresholds []float64 `json:"thresholds"`
}

// LFW runs the protocol: for each fold, the threshold with the best accuracy
// on the other folds is applied to it. A pair with an image in which no face
// was found scores -1 (a non-match), so misses count against accuracy.
func LFW(enc Encoder, pairsPath, root string, log io.Writer) (*LFWReport, error) {
	f, err := os.Open(pairsPath)
	if err != nil {
		return nil, fmt.Errorf("lfw: %w", err)
	}
	defer f.Close()
	folds, err := ReadLFWPairs(f)
	if err != nil {
		return nil, err
	}
	rep := &LFWReport{Folds: len(folds)}
	cache := map[string]*engine.Template{}
	get := func(p string) *engine.Template {
		if t, ok := cache[p]; ok {
			return t
		}
		var t *engine.Template
		im, err := engine.LoadImage(filepath.Join(root, p))
		if err == nil {
			var e engine.Encoded
			if e, err = enc.Encode(im); err == nil {
				var q engine.Template
				if q, err = engine.Quantize(e.Embedding); err == nil {
					t = &q
				}
			}
		}
		if err != nil {
			rep.Undetected++
			fmt.Fprintf(log, "lfw: %s: %v\n", p, err)
		}
		cache[p] = t
		return t
	}
	scores := make([][]float64, len(folds))
	for i, fold := range folds {
		for _, p := range fold {
			a, b := get(p.A), get(p.B)
			s := -1.0
			if a != nil && b != nil {
				s = float64(a.Similarity(b))
			}
			scores[i] = append(scores[i], s)
			rep.Pairs++
		}
	}
	for i := range folds {
		var gen, imp []float64
		for j := range folds {
			if j == i {
				continue
			}
			for k, p := range folds[j] {
				if p.Same {
					gen = append(gen, scores[j][k])
				} else {
					imp = append(imp, scores[j][k])
				}
			}
		}
		t := NewROC(gen, imp).BestAccuracyThreshold()
		var tg, ti []float64
		for k, p := range folds[i] {
			if p.Same {
				tg = append(tg, scores[i][k])
			} else {
				ti = append(ti, scores[i][k])
			}
		}
		rep.PerFold = append(rep.PerFold, round4(NewROC(tg, ti).Accuracy(t)))
		rep.Thresholds = append(rep.Thresholds, round4(t))
	}
	rep.Accuracy, rep.Std = MeanStd(rep.PerFold)
	rep.Accuracy, rep.Std = round4(rep.Accuracy), round4(rep.Std)
	return rep, nil
}

// Print writes the report for a person.
func (r *LFWReport) Print(w io.Writer) {
	fmt.Fprintf(w, "LFW protocol: %d folds, %d pairs, %d images without a face\n", r.Folds, r.Pairs, r.Undetected)
	fmt.Fprintf(w, "accuracy %.2f%% ± %.2f%%\n", 100*r.Accuracy, 100*r.Std)
}
