package calibrate

import "math"

// Histogram counts scores in bins [Start+i*Width, Start+(i+1)*Width).
// Genuine counts the same-attendee pairs, when there are any.
type Histogram struct {
	Start   float64 `json:"start"`
	Width   float64 `json:"width"`
	Counts  []int   `json:"counts"`
	Genuine []int   `json:"genuine,omitempty"`
}

// NewHistogram bins impostor scores imp (ascending) and genuine scores gen
// in bins of width, over a range that also holds every one of lines (the
// thresholds drawn on it). Cosines span [-1, 1], so there are at most
// 2/width+2 bins. No impostor scores give an empty histogram.
func NewHistogram(imp, gen []float64, width float64, lines ...float64) Histogram {
	h := Histogram{Width: width}
	if len(imp) == 0 || !(width > 0) {
		return h
	}
	lo, hi := imp[0], imp[len(imp)-1]
	for _, v := range gen {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	for _, v := range lines {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	h.Start = math.Floor(lo/width) * width
	nb := int(math.Ceil((hi-h.Start)/width+1e-9)) + 1
	nb = max(1, min(nb, int(2/width)+2))
	bin := func(v float64) int { return max(0, min(nb-1, int(math.Floor((v-h.Start)/width)))) }
	h.Counts = make([]int, nb)
	for _, v := range imp {
		h.Counts[bin(v)]++
	}
	if len(gen) > 0 {
		h.Genuine = make([]int, nb)
		for _, v := range gen {
			h.Genuine[bin(v)]++
		}
	}
	return h
}

// Genuine returns the same-attendee scores of a gallery without labels:
// every pair of one attendee's templates (a registration photo and the
// captures of later check-ins). Attendees with one template give none.
func Genuine[T any, P Comparable[T]](attendees [][]T) []float64 {
	var g []float64
	for _, ts := range attendees {
		for i := range ts {
			for j := i + 1; j < len(ts); j++ {
				g = append(g, float64(P(&ts[i]).Similarity(&ts[j])))
			}
		}
	}
	return g
}

// ShareBelow is the share of scores below t: on genuine scores, the
// false-reject rate at threshold t. NaN without scores.
func ShareBelow(scores []float64, t float64) float64 {
	if len(scores) == 0 {
		return math.NaN()
	}
	k := 0
	for _, v := range scores {
		if v < t {
			k++
		}
	}
	return float64(k) / float64(len(scores))
}
