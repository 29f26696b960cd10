package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/http/internal/access"
)

//go:embed i18n/*.json
var i18nFS embed.FS

// catalogs holds the message catalogues by language: key to text, the text
// a fmt format when the message takes arguments.
var catalogs = mustLoadCatalogs()

// Languages lists the console's languages in the order the switch shows them.
var Languages = []string{"es", "en"}

func mustLoadCatalogs() map[string]map[string]string {
	out := make(map[string]map[string]string)
	for _, lang := range Languages {
		data, err := i18nFS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			panic("console: " + err.Error())
		}
		m := make(map[string]string)
		if err := json.Unmarshal(data, &m); err != nil {
			panic(fmt.Sprintf("console: catalogue %s: %v", lang, err))
		}
		out[lang] = m
	}
	return out
}

// Catalog returns a copy of the language's messages, for tests and tools.
func Catalog(lang string) map[string]string {
	out := make(map[string]string, len(catalogs[lang]))
	for k, v := range catalogs[lang] {
		out[k] = v
	}
	return out
}

// translate returns the message in the language, formatted with args; a
// missing key shows as itself (the tests keep the catalogues complete).
func translate(lang, key string, args ...any) string {
	msg, ok := catalogs[lang][key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// messagePattern is a domain message that names a value, such as
// "subject %s not found", as a regular expression and its translation.
type messagePattern struct {
	re          *regexp.Regexp
	translation string
}

// patterns holds, by language, the catalogue's domain messages with values.
var patterns = func() map[string][]messagePattern {
	verb := regexp.MustCompile(`%[sd]`)
	out := make(map[string][]messagePattern)
	for lang, m := range catalogs {
		for key, text := range m {
			msg, ok := strings.CutPrefix(key, "domain.")
			if !ok || !verb.MatchString(msg) {
				continue
			}
			var expr strings.Builder
			expr.WriteString("^")
			last := 0
			for _, loc := range verb.FindAllStringIndex(msg, -1) {
				expr.WriteString(regexp.QuoteMeta(msg[last:loc[0]]))
				expr.WriteString("(.+?)")
				last = loc[1]
			}
			expr.WriteString(regexp.QuoteMeta(msg[last:]) + "$")
			out[lang] = append(out[lang], messagePattern{re: regexp.MustCompile(expr.String()), translation: text})
		}
	}
	return out
}()

// matchPattern translates a domain message that names values.
func matchPattern(lang, msg string) (string, bool) {
	for _, p := range patterns[lang] {
		if m := p.re.FindStringSubmatch(msg); m != nil {
			args := make([]any, len(m)-1)
			for i := range args {
				args[i] = m[i+1]
			}
			return fmt.Sprintf(p.translation, args...), true
		}
	}
	return "", false
}

// pages are the parsed templates, one set per page: the layout and the page.
var pages = mustParsePages()

func mustParsePages() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	out := make(map[string]*template.Template)
	for _, n := range names {
		if n.Name() == "layout.html" {
			continue
		}
		t := template.Must(template.Must(layout.Clone()).ParseFS(templateFS, path.Join("templates", n.Name())))
		out[strings.TrimSuffix(n.Name(), ".html")] = t
	}
	return out
}

var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"seq": func(from, to int) []int {
		var s []int
		for i := from; i <= to; i++ {
			s = append(s, i)
		}
		return s
	},
	"join":  strings.Join,
	"split": strings.Fields,
}

// view is what every page's template receives.
type view struct {
	Lang  string
	Page  string // template name, for the active navigation item
	User  *huella.User
	CSRF  string
	Path  string // the request URI, for the language switch to return to
	Langs []string
	Data  any
	sites map[string]*huella.Site
	now   time.Time
}

func (c *Console) newView(r *http.Request, user *huella.User, w http.ResponseWriter, page string) *view {
	return &view{Lang: c.language(r), Page: page, User: user, CSRF: c.csrfFor(w, r), Path: localPath(r.URL.RequestURI()), Langs: Languages}
}

// pageView is newView for a signed-in page.
func (c *Console) pageView(r *http.Request, req *request, page string) *view {
	return &view{Lang: req.lang, Page: page, User: req.user, CSRF: req.session.CSRF, Path: localPath(r.URL.RequestURI()), Langs: Languages, now: c.cfg.Now()}
}

// T translates a message key into the page's language.
func (v *view) T(key string, args ...any) string { return translate(v.Lang, key, args...) }

// viewWith pairs the view with a value, for partial templates that need
// both (the translations and an encounter).
type viewWith struct {
	V *view
	X any
}

// With pairs the view with x for a partial template.
func (v *view) With(x any) viewWith { return viewWith{V: v, X: x} }

// LangName is the name of a language in that language.
func (v *view) LangName(lang string) string { return translate(lang, "lang.self") }

// navItem is one entry of the navigation bar.
type navItem struct{ Page, Href, Label string }

// Nav returns the pages the user's role may open.
func (v *view) Nav() []navItem {
	if v.User == nil {
		return nil
	}
	var items []navItem
	add := func(page, href string, roles []huella.Role) {
		for _, r := range roles {
			if r == v.User.Role {
				items = append(items, navItem{page, href, v.T("nav." + page)})
				return
			}
		}
	}
	add("dashboard", "/dashboard", access.Stats)
	add("enroll", "/enroll", access.Officers)
	add("hits", "/hits", access.HitReaders)
	add("watchlists", "/watchlists", access.WatchlistReaders)
	add("search", "/search", access.Readers)
	add("encounters", "/encounters", access.Readers)
	add("partners", "/partners", access.DeliveryReaders)
	add("audit", "/audit", access.Auditors)
	add("users", "/users", access.Admins)
	add("sites", "/sites", access.Admins)
	return items
}

// Role names the user's role in the page's language.
func (v *view) Role(r huella.Role) string { return v.T("role." + string(r)) }

// Time formats t in the time zone of the site (UTC for an unknown site).
func (v *view) Time(t time.Time, site string) string {
	if t.IsZero() {
		return ""
	}
	loc := time.UTC
	if s := v.sites[site]; s != nil {
		if l, err := time.LoadLocation(s.TimeZone); err == nil {
			loc = l
		}
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// UTC formats t in UTC.
func (v *view) UTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// Ago is how long before the page's time t was, in whole seconds ("" for
// a zero t).
func (v *view) Ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return max(v.now.Sub(t), 0).Round(time.Second).String()
}

// SiteName returns the site's name, or its code if unknown.
func (v *view) SiteName(code string) string {
	if s := v.sites[code]; s != nil {
		return s.Name
	}
	return code
}

// Enum translates a value of a closed list: prefix "reason", value
// "detention" is the message "reason.detention".
func (v *view) Enum(prefix string, value any) string {
	s := fmt.Sprint(value)
	if s == "" {
		return ""
	}
	key := prefix + "." + s
	if _, ok := catalogs[v.Lang][key]; ok {
		return v.T(key)
	}
	return s
}

// FMR says what a false match rate means: at most one person in N who is
// not the candidate would score this high.
func (v *view) FMR(fmr float64) string {
	switch {
	case fmr <= 0:
		return v.T("fmr.below", "1 000 000 000")
	case fmr >= 1:
		return v.T("fmr.none")
	}
	n := 1 / fmr
	if n >= 1e9 {
		return v.T("fmr.below", "1 000 000 000")
	}
	return v.T("fmr.one_in", groupDigits(int64(math.Round(n))), fmr)
}

// groupDigits writes n with thin spaces between groups of three digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Score formats a raw engine score or a log-likelihood ratio.
func (v *view) Score(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

// ScoreSlot names what a per-modality score compared: a finger, an eye or the face.
func (v *view) ScoreSlot(s huella.ModalityScore) string {
	switch s.Modality {
	case huella.ModalityFinger:
		return v.Finger(s.Position)
	case huella.ModalityIris:
		if s.Eye != "" {
			return v.T("iris." + string(s.Eye))
		}
	}
	return v.T("modality." + string(s.Modality))
}

// Finger names a finger position.
func (v *view) Finger(position int) string { return v.T(fmt.Sprintf("finger.%d", position)) }

// Sample names a sample's slot: the finger, the eye, the face or an SMT photo.
func (v *view) Sample(s *huella.Sample) string {
	switch s.Modality {
	case huella.ModalityFinger:
		return v.Finger(s.Position)
	case huella.ModalityIris:
		return v.T("iris." + string(s.Eye))
	default:
		return v.T("modality." + string(s.Modality))
	}
}

var (
	indexPattern = regexp.MustCompile(`\[\d+\]`)
	indexedField = regexp.MustCompile(`^([a-z_.]+)\[(\d+)\]$`)
)

// ErrorText shows a domain error in the page's language: a translated
// message when the catalogue has the domain's message (with indexes such as
// [0] removed), else the domain's own message, which names fields and rules
// and never personal data.
func (v *view) ErrorText(err error) string {
	code := huella.ErrorCode(err)
	if code == huella.EINTERNAL {
		return v.T("error.internal")
	}
	msg := huella.ErrorMessage(err)
	// Messages are nested: "samples[2]: image missing".
	var parts []string
	for _, p := range strings.SplitN(msg, ": ", 3) {
		if m := indexedField.FindStringSubmatch(p); m != nil {
			if _, ok := catalogs[v.Lang]["field."+m[1]]; ok {
				n, _ := strconv.Atoi(m[2])
				parts = append(parts, v.T("field."+m[1], n+1))
				continue
			}
		}
		key := "domain." + indexPattern.ReplaceAllString(p, "[]")
		if t, ok := catalogs[v.Lang][key]; ok {
			parts = append(parts, t)
		} else if t, ok := matchPattern(v.Lang, p); ok {
			parts = append(parts, t)
		} else {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ": ")
}
