package tattoo

import "testing"

func TestSubjectFolds(t *testing.T) {
	originals := map[string]int{"1": 2, "2": 2, "3": 1, "9": 5, "10": 4, "11": 6, "100": 1, "101": 1, "102": 1}
	folds := subjectFolds(originals, 2)
	if len(folds) != len(originals) {
		t.Fatalf("got %d subjects assigned, want %d", len(folds), len(originals))
	}
	var probed, all [2]int
	for s, f := range folds {
		if f < 0 || f > 1 {
			t.Fatalf("subject %s in fold %d, want 0 or 1", s, f)
		}
		all[f]++
		if originals[s] >= 2 {
			probed[f]++
		}
	}
	// Five subjects with probes dealt over two folds: 3 and 2.
	if probed != [2]int{3, 2} {
		t.Errorf("got %v subjects with probes per fold, want [3 2]", probed)
	}
	if all[0]+all[1] != 9 || all[0] < 4 || all[1] < 4 {
		t.Errorf("got %v subjects per fold, want a 5/4 split", all)
	}
	// Numeric order: 1, 2, 9, 10, 11 → folds 0, 1, 0, 1, 0.
	for s, want := range map[string]int{"1": 0, "2": 1, "9": 0, "10": 1, "11": 0} {
		if got := folds[s]; got != want {
			t.Errorf("subject %s in fold %d, want %d", s, got, want)
		}
	}
	again := subjectFolds(originals, 2)
	for s, f := range folds {
		if again[s] != f {
			t.Fatalf("subject %s moved from fold %d to %d between calls", s, f, again[s])
		}
	}
}
