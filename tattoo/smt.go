package tattoo

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// SMTType is the kind of an SMT record.
type SMTType string

// The SMT types of ANSI/NIST-ITL field 10.040 and NCIC.
const (
	Scar   SMTType = "scar"
	Mark   SMTType = "mark"
	Tattoo SMTType = "tattoo"
)

// SMTClasses are the tattoo classes of ANSI/NIST-ITL 1-2011 (Table 31).
var SMTClasses = []string{"HUMAN", "ANIMAL", "PLANT", "FLAG", "OBJECT", "ABSTRACT", "SYMBOL", "OTHER"}

// SMTColors are the tattoo colour codes of ANSI/NIST-ITL 1-2011 (Table 33).
var SMTColors = []string{"BLACK", "BROWN", "GRAY", "BLUE", "GREEN", "RED", "YELLOW", "WHITE", "PURPLE", "ORANGE"}

// SMTRecord is the structured description of one scar, mark or tattoo.
type SMTRecord struct {
	// ID identifies the record; when the SMT has a photograph, use the same
	// ID as in the Gallery so that structured and image search combine.
	ID      string
	Subject string
	Type    SMTType
	// NCICCode is the NCIC SMT code, which names the body location
	// ("TAT R ARM", "SC L HND", "CAUL EAR").
	NCICCode string
	// Class and Subclass are the ANSI/NIST tattoo class and subclass
	// ("ANIMAL", "CAT").
	Class, Subclass string
	// Colors are ANSI/NIST colour codes.
	Colors []string
	// Description is free text, in Spanish or English.
	Description string
}

// Errors of SMTRecord.Validate.
var (
	ErrSMTIDRequired = errors.New("tattoo: SMT record ID required")
	ErrSMTType       = errors.New("tattoo: SMT type must be scar, mark or tattoo")
	ErrSMTClass      = errors.New("tattoo: unknown SMT class")
	ErrSMTColor      = errors.New("tattoo: unknown SMT colour")
)

// Validate checks the record's codes.
func (r *SMTRecord) Validate() error {
	if r.ID == "" {
		return ErrSMTIDRequired
	}
	switch r.Type {
	case Scar, Mark, Tattoo:
	default:
		return fmt.Errorf("%w: %q", ErrSMTType, r.Type)
	}
	if r.Class != "" && !containsFold(SMTClasses, r.Class) {
		return fmt.Errorf("%w: %q", ErrSMTClass, r.Class)
	}
	for _, c := range r.Colors {
		if !containsFold(SMTColors, c) {
			return fmt.Errorf("%w: %q", ErrSMTColor, c)
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// SMTQuery selects SMT records. Every field that is set must hold; Text
// ranks the records by the words of their description they share with it.
type SMTQuery struct {
	Type SMTType
	// NCICCode matches the record's code exactly, or as a prefix when it
	// ends with "*" ("TAT*" is any tattoo, "TAT R*" any on the right side).
	NCICCode string
	Class    string
	Subclass string
	// Colors must all be present on the record.
	Colors []string
	// Text holds words in Spanish or English; accents and case are
	// ignored, plurals and gender endings are folded and common tattoo
	// motifs match across the two languages ("calavera" finds "skull").
	Text string
}

// SMTHit is one record returned by a structured search.
type SMTHit struct {
	Record SMTRecord
	// Score is the summed IDF of the query words found (0 without Text).
	Score float64
}

// SMTIndex is an in-memory index of SMT records with an inverted index on
// the folded words of their descriptions. It is safe for concurrent use.
type SMTIndex struct {
	mu      sync.RWMutex
	records []SMTRecord
	ids     map[string]int
	words   map[string][]int
}

// NewSMTIndex returns an empty index.
func NewSMTIndex() *SMTIndex {
	return &SMTIndex{ids: map[string]int{}, words: map[string][]int{}}
}

// Add validates and indexes a record; an existing ID is an error.
func (x *SMTIndex) Add(r SMTRecord) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.Colors = append([]string(nil), r.Colors...)
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.ids[r.ID]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicateID, r.ID)
	}
	k := len(x.records)
	x.ids[r.ID] = k
	x.records = append(x.records, r)
	for _, t := range distinct(Terms(r.Description)) {
		x.words[t] = append(x.words[t], k)
	}
	return nil
}

// Search returns the records matching q, best first (ties in insertion order).
func (x *SMTIndex) Search(q SMTQuery) []SMTHit {
	x.mu.RLock()
	defer x.mu.RUnlock()
	terms := distinct(Terms(q.Text))
	var candidates []int
	score := map[int]float64{}
	if len(terms) > 0 {
		for _, t := range terms {
			list := x.words[t]
			idf := math.Log(1 + float64(len(x.records))/float64(len(list)+1))
			for _, k := range list {
				if _, seen := score[k]; !seen {
					candidates = append(candidates, k)
				}
				score[k] += idf
			}
		}
		sort.Ints(candidates)
	} else {
		candidates = make([]int, len(x.records))
		for i := range candidates {
			candidates[i] = i
		}
	}
	var out []SMTHit
	for _, k := range candidates {
		r := x.records[k]
		if q.matches(&r) {
			out = append(out, SMTHit{Record: r, Score: score[k]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

// Allow returns a filter for SearchOptions.Allow that accepts the IDs of
// the records matching q, so image search runs only over them.
func (x *SMTIndex) Allow(q SMTQuery) func(id string) bool {
	ok := map[string]bool{}
	for _, h := range x.Search(q) {
		ok[h.Record.ID] = true
	}
	return func(id string) bool { return ok[id] }
}

func (q *SMTQuery) matches(r *SMTRecord) bool {
	if q.Type != "" && !strings.EqualFold(string(q.Type), string(r.Type)) {
		return false
	}
	if q.NCICCode != "" {
		code := normalizeCode(r.NCICCode)
		want := normalizeCode(q.NCICCode)
		if p, ok := strings.CutSuffix(want, "*"); ok {
			if !strings.HasPrefix(code, p) {
				return false
			}
		} else if code != want {
			return false
		}
	}
	if q.Class != "" && !strings.EqualFold(q.Class, r.Class) {
		return false
	}
	if q.Subclass != "" && !strings.EqualFold(q.Subclass, r.Subclass) {
		return false
	}
	for _, c := range q.Colors {
		if !containsFold(r.Colors, c) {
			return false
		}
	}
	return true
}

// normalizeCode upper-cases an NCIC code and collapses its spaces.
func normalizeCode(s string) string {
	return strings.Join(strings.Fields(strings.ToUpper(s)), " ")
}

// SearchCombined runs the image search restricted to the records that match
// q: "who else has this tattoo, on the right arm".
func SearchCombined(g *Gallery, x *SMTIndex, probe *Template, q SMTQuery, opt SearchOptions) []Candidate {
	allow := x.Allow(q)
	if prev := opt.Allow; prev != nil {
		opt.Allow = func(id string) bool { return allow(id) && prev(id) }
	} else {
		opt.Allow = allow
	}
	return g.Search(probe, opt)
}

// Terms splits text into folded, stemmed search terms: lower case, accents
// removed, stop words dropped, plural and gender endings folded, and common
// tattoo motifs mapped to one term in Spanish and English.
func Terms(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(foldAccents(strings.ToLower(text)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if stopWords[w] {
			continue
		}
		s := stem(w)
		if c, ok := motifs[s]; ok {
			s = c
		}
		out = append(out, s)
	}
	return out
}

func distinct(ts []string) []string {
	seen := map[string]bool{}
	out := ts[:0:0]
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

var accentFold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ä", "a", "ã", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i",
	"ó", "o", "ò", "o", "ô", "o", "ö", "o", "õ", "o",
	"ú", "u", "ù", "u", "û", "u", "ü", "u",
	"ñ", "n", "ç", "c",
)

func foldAccents(s string) string { return accentFold.Replace(s) }

// stem folds English and Spanish plurals and Spanish gender endings, so
// "roses"/"rose", "flores"/"flor", "calaveras"/"calavera" and
// "butterflies"/"butterfly" meet.
func stem(w string) string {
	if len(w) <= 3 {
		return w
	}
	if strings.HasSuffix(w, "ies") && len(w) > 4 {
		return w[:len(w)-3] + "y"
	}
	if strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
		w = w[:len(w)-1]
	}
	if len(w) > 3 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	if len(w) > 4 && (strings.HasSuffix(w, "a") || strings.HasSuffix(w, "o")) {
		w = w[:len(w)-1]
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and the of on in with at to for by or
		el la los las un una unos unas de del y e o u en con sin por para al su sus que`) {
		m[w] = true
	}
	return m
}()

// motifs maps the stems of common tattoo motifs in Spanish to the English
// stem, so a description in one language is found by words in the other.
var motifs = func() map[string]string {
	pairs := [][2]string{
		{"calavera", "skull"}, {"craneo", "skull"}, {"rosa", "rose"}, {"flor", "flower"},
		{"dragon", "dragon"}, {"corazon", "heart"}, {"cruz", "cross"}, {"estrella", "star"},
		{"serpiente", "snake"}, {"culebra", "snake"}, {"vibora", "snake"}, {"aguila", "eagle"},
		{"tigre", "tiger"}, {"leon", "lion"}, {"lobo", "wolf"}, {"mariposa", "butterfly"},
		{"nombre", "name"}, {"lagrima", "tear"}, {"angel", "angel"}, {"virgen", "virgin"},
		{"payaso", "clown"}, {"buho", "owl"}, {"lechuza", "owl"}, {"cara", "face"},
		{"rostro", "face"}, {"mujer", "woman"}, {"hombre", "man"}, {"pistola", "gun"},
		{"cuchillo", "knife"}, {"punal", "dagger"}, {"diablo", "devil"},
		{"demonio", "demon"}, {"corona", "crown"}, {"telarana", "web"}, {"arana", "spider"},
		{"perro", "dog"}, {"gato", "cat"}, {"pajaro", "bird"}, {"ave", "bird"},
		{"pez", "fish"}, {"ancla", "anchor"}, {"reloj", "clock"}, {"luna", "moon"},
		{"sol", "sun"}, {"ojo", "eye"}, {"bandera", "flag"},
		{"letra", "letter"}, {"numero", "number"}, {"fecha", "date"}, {"santa", "saint"},
		{"muerte", "death"}, {"catrina", "catrina"}, {"cicatriz", "scar"}, {"lunar", "mole"},
		{"marca", "mark"}, {"tatuaje", "tattoo"}, {"brazo", "arm"}, {"pierna", "leg"},
		{"espalda", "back"}, {"pecho", "chest"}, {"cuello", "neck"}, {"izquierdo", "left"},
		{"derecho", "right"}, {"negro", "black"}, {"rojo", "red"}, {"azul", "blue"},
		{"verde", "green"}, {"amarillo", "yellow"}, {"blanco", "white"}, {"gris", "gray"},
		{"morado", "purple"}, {"naranja", "orange"}, {"marron", "brown"}, {"cafe", "brown"},
		{"grey", "gray"}, {"tribal", "tribal"}, {"religioso", "religious"}, {"pandilla", "gang"},
		{"lagrimas", "tear"}, {"geisha", "geisha"}, {"tiburon", "shark"},
	}
	m := map[string]string{}
	for _, p := range pairs {
		m[stem(p[0])] = stem(p[1])
	}
	return m
}()
