package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func randomEmbedding(r *rand.Rand) Embedding {
	e := make(Embedding, Dim)
	for i := range e {
		e[i] = float32(r.NormFloat64())
	}
	return Normalize(e)
}

func mustQuantize(tb testing.TB, e Embedding) Template {
	tb.Helper()
	t, err := Quantize(e)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// TestTemplateBytesRoundTrip covers what engine adds to the shared codec
// (facecheck's tests cover the rest): templates of another model are refused.
func TestTemplateBytesRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a := mustQuantize(t, randomEmbedding(r))
	b, err := TemplateFromBytes(a.Model, a.Version, a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if b.Q != a.Q || b.InvNorm != a.InvNorm {
		t.Fatal("round trip changed the template")
	}
	if _, err := TemplateFromBytes("other-model", 1, a.Bytes()); err == nil {
		t.Error("accepted a template of another model")
	}
	if _, err := TemplateFromBytes(a.Model, a.Version, a.Bytes()[:100]); err == nil {
		t.Error("accepted a short template")
	}
}

func TestGallerySearch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g := NewGallery(2)
	embs := map[string]Embedding{}
	for i := range 50 {
		id := fmt.Sprintf("p%02d", i)
		embs[id] = randomEmbedding(r)
		if err := g.Add(id, mustQuantize(t, embs[id])); err != nil {
			t.Fatal(err)
		}
	}
	probe := mustQuantize(t, embs["p07"])
	m := g.Search(&probe)
	if !m.Found || m.ID != "p07" || m.Score < 0.99 || m.SecondID == "p07" || m.Margin != m.Score-m.SecondScore {
		t.Fatalf("search = %+v", m)
	}
	// A second template for p07 does not make p07 its own runner-up.
	if err := g.Add("p07", mustQuantize(t, embs["p07"])); err != nil {
		t.Fatal(err)
	}
	if m := g.Search(&probe); m.SecondID == "p07" || g.Len() != 50 || g.Templates() != 51 {
		t.Fatalf("after second template: %+v len %d templates %d", m, g.Len(), g.Templates())
	}
	// The per-identity cap drops the oldest.
	g.Add("p07", mustQuantize(t, embs["p08"]))
	if g.Templates() != 51 {
		t.Fatalf("cap not applied: %d templates", g.Templates())
	}
	g.Remove("p07")
	if m := g.Search(&probe); m.ID == "p07" {
		t.Fatal("removed identity still found")
	}
	if s, ok := g.Verify("p08", &probe); !ok || s > 0.5 {
		t.Fatalf("verify p08 = %v %v", s, ok)
	}
	// Every remaining identity is still found by its own probe after swaps.
	for id, e := range embs {
		if id == "p07" {
			continue
		}
		p := mustQuantize(t, e)
		if m := g.Search(&p); m.ID != id {
			t.Fatalf("after removals %s found as %s", id, m.ID)
		}
	}
	if m := NewGallery(1).Search(&probe); m.Found {
		t.Fatal("empty gallery found something")
	}
}

func TestGalleryRejectsForeignTemplate(t *testing.T) {
	tpl := mustQuantize(t, randomEmbedding(rand.New(rand.NewPCG(1, 1))))
	tpl.Model = "someone-else"
	if err := NewGallery(1).Add("x", tpl); err == nil {
		t.Fatal("added a template of another model")
	}
}

// SyntheticGallery fills a gallery with n random identities; bench uses it too.
func benchGallery(b *testing.B, n int) (*Gallery, Template) {
	b.Helper()
	r := rand.New(rand.NewPCG(9, 9))
	g := NewGallery(1)
	for i := range n {
		g.Add(fmt.Sprint(i), mustQuantize(b, randomEmbedding(r)))
	}
	return g, mustQuantize(b, randomEmbedding(r))
}

func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			g, p := benchGallery(b, n)
			b.ResetTimer()
			for b.Loop() {
				g.Search(&p)
			}
		})
	}
}

func FuzzTemplateFromBytes(f *testing.F) {
	f.Add(make([]byte, Dim))
	f.Add([]byte{1, 2, 3})
	r := rand.New(rand.NewPCG(1, 2))
	tpl, _ := Quantize(randomEmbedding(r))
	f.Add(tpl.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		tpl, err := TemplateFromBytes(ModelID, TemplateVersion, b)
		if err != nil {
			return
		}
		if s := tpl.Similarity(&tpl); s < 0.999 || s > 1.001 {
			t.Fatalf("self-similarity %v", s)
		}
		if got := tpl.Bytes(); string(got) != string(b) {
			t.Fatal("round trip changed bytes")
		}
	})
}

func TestDotRowsMatchesPortable(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 37
	rows := make([]int8, n*Dim)
	q := make([]int8, Dim)
	for i := range rows {
		rows[i] = int8(r.IntN(256) - 128)
	}
	for i := range q {
		q[i] = int8(r.IntN(256) - 128)
	}
	// Extremes: -128*-128 summed over every dimension.
	for i := 0; i < Dim; i++ {
		rows[i] = -128
	}
	q[0], q[1] = -128, 127
	got, want := make([]int32, n), make([]int32, n)
	dotRows(q, rows, got)
	dotRowsGo(q, rows, want)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d: kernel %d, portable %d", i, got[i], want[i])
		}
	}
}

// A probe unlike everyone still gets its (negative) best score: the search
// must not mistake "all scores below zero" for an empty gallery.
func TestGallerySearchAllNegative(t *testing.T) {
	e := make(Embedding, Dim)
	for i := range e {
		e[i] = 1
	}
	neg := make(Embedding, Dim)
	neg2 := make(Embedding, Dim)
	for i := range neg {
		neg[i], neg2[i] = -1, -1
		if i%2 == 0 {
			neg2[i] = -0.5
		}
	}
	g := NewGallery(1)
	if err := g.Add("a", mustQuantize(t, Normalize(neg))); err != nil {
		t.Fatal(err)
	}
	if err := g.Add("b", mustQuantize(t, Normalize(neg2))); err != nil {
		t.Fatal(err)
	}
	probe := mustQuantize(t, Normalize(e))
	m := g.Search(&probe)
	if !m.Found || m.ID != "b" || m.SecondID != "a" || m.Score > -0.9 || m.Score < -1 || m.Margin <= 0 {
		t.Fatalf("got %+v, want b best (about -0.95) then a (-1)", m)
	}
}
