package enrol

import "testing"

func TestDisplayName(t *testing.T) {
	for id, want := range map[string]string{
		"alejandro_toledo": "Alejandro Toledo",
		"biden":            "Biden",
		"george_w_bush":    "George W Bush",
		"Kim_Min-jun":      "Kim Min-jun",
		"佐藤_花子":            "佐藤 花子",
		"":                 "",
	} {
		if got := DisplayName(id); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", id, got, want)
		}
	}
}
