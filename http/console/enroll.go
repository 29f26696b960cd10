package console

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/http/internal/access"
)

// Form limits.
const (
	maxEnrollSize  = 64 << 20 // a whole enrollment form with its images
	maxFieldSize   = 8 << 10  // one text field
	maxFormFields  = 300
	nameRows       = 3 // the name given and two aliases
	documentRows   = 2
	smtRows        = 3
	datetimeLayout = "2006-01-02T15:04" // <input type="datetime-local">
)

// Finger marks: a finger without an image is amputated or could not be
// printed (bandaged, injured), as ANSI/NIST-ITL's AMP field (14.018) tells
// them apart; the marks are the domain's absence reasons.
const (
	fingerPresent     = ""
	fingerAmputated   = string(huella.AbsenceAmputated)
	fingerUnprintable = string(huella.AbsenceUnprintable)
)

// ncicCode is one NCIC-style scar, mark or tattoo code the form suggests,
// with the message key of its body location.
type ncicCode struct {
	Type     huella.SMTType
	Code     string
	Location string
}

// ncicCodes are the codes the form suggests; officers may type others of
// the same shape.
var ncicCodes = func() []ncicCode {
	locations := []struct{ suffix, key string }{
		{"HEAD", "head"}, {"FACE", "face"}, {"NECK", "neck"}, {"CHEST", "chest"}, {"ABDOM", "abdomen"}, {"BACK", "back"},
		{"L SHLD", "l-shoulder"}, {"R SHLD", "r-shoulder"}, {"UL ARM", "ul-arm"}, {"UR ARM", "ur-arm"},
		{"L ARM", "l-arm"}, {"R ARM", "r-arm"}, {"LF ARM", "lf-arm"}, {"RF ARM", "rf-arm"},
		{"L HND", "l-hand"}, {"R HND", "r-hand"}, {"FGR", "finger"}, {"L LEG", "l-leg"}, {"R LEG", "r-leg"},
		{"L FT", "l-foot"}, {"R FT", "r-foot"},
	}
	var out []ncicCode
	for _, p := range []struct {
		t      huella.SMTType
		prefix string
	}{{huella.SMTTattoo, "TAT"}, {huella.SMTScar, "SC"}, {huella.SMTMark, "MOLE"}} {
		for _, l := range locations {
			out = append(out, ncicCode{Type: p.t, Code: p.prefix + " " + l.suffix, Location: l.key})
		}
	}
	return out
}()

// nationalities are the countries the nationality fields suggest first;
// any ISO 3166-1 alpha-3 code is accepted.
var nationalities = []string{"MEX", "GTM", "HND", "SLV", "NIC", "CRI", "PAN", "BLZ", "CUB", "HTI", "DOM", "VEN",
	"COL", "ECU", "PER", "BOL", "BRA", "CHL", "ARG", "USA", "CAN", "ESP", "CHN", "IND", "AGO", "CMR", "SEN", "XXA", "XXX"}

type enrollPage struct {
	Form    url.Values
	Sites   []*huella.Site
	Errors  []string
	Fingers []int
	Codes   []ncicCode
	Nations []string
	Classes []string
	Colors  []string
	Names   []int
	Docs    []int
	SMTs    []int
	Max     int  // MiB per image
	Quality bool // the form measures each image's quality as it is chosen
}

// Val returns the form's value of the field.
func (p enrollPage) Val(name string) string { return p.Form.Get(name) }

// Is reports whether the field has the value (for selected options).
func (p enrollPage) Is(name, value string) bool {
	for _, v := range p.Form[name] {
		if v == value {
			return true
		}
	}
	return false
}

// Field names a field of a numbered row: Field "given" 0 is "given_0".
func (p enrollPage) Field(name string, i int) string { return fmt.Sprintf("%s_%d", name, i) }

func (c *Console) handleEnrollForm(w http.ResponseWriter, r *http.Request, req *request) {
	form := url.Values{}
	form.Set("reason", string(huella.ReasonApprehension))
	form.Set("history", string(huella.HistoryNone))
	form.Set("sex", string(huella.SexUnknown))
	form.Set("impression", string(huella.ImpressionPlain))
	form.Set("ppi", "500")
	if s := r.URL.Query().Get("subject"); strings.HasPrefix(s, "sub_") {
		form.Set("subject_id", s)
	}
	// One key per form: a submission sent twice (a double click, a
	// retry after the network failed) enrolls once.
	form.Set("idempotency_key", randomToken())
	c.renderEnroll(w, r, req, http.StatusOK, form, nil)
}

func (c *Console) renderEnroll(w http.ResponseWriter, r *http.Request, req *request, status int, form url.Values, problems []string) {
	_, all, err := c.loadSites(r.Context())
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	mine := accessibleSites(req.user, all)
	if form.Get("site") == "" && len(mine) > 0 {
		form.Set("site", mine[0].Code)
	}
	if form.Get("captured_at") == "" {
		loc := time.UTC
		for _, s := range mine {
			if s.Code == form.Get("site") {
				if l, err := time.LoadLocation(s.TimeZone); err == nil {
					loc = l
				}
			}
		}
		form.Set("captured_at", c.cfg.Now().In(loc).Format(datetimeLayout))
	}
	maxImage := c.cfg.Enroll.MaxImageSize
	if maxImage == 0 {
		maxImage = enroll.DefaultMaxImageSize
	}
	page := enrollPage{Form: form, Sites: mine, Errors: problems, Codes: ncicCodes, Nations: nationalities,
		Classes: huella.SMTClasses, Colors: huella.SMTColors, Max: maxImage >> 20, Quality: c.identifier() != nil}
	for i := 1; i <= 10; i++ {
		page.Fingers = append(page.Fingers, i)
	}
	for i := 0; i < nameRows; i++ {
		page.Names = append(page.Names, i)
	}
	for i := 0; i < documentRows; i++ {
		page.Docs = append(page.Docs, i)
	}
	for i := 0; i < smtRows; i++ {
		page.SMTs = append(page.SMTs, i)
	}
	v := c.pageView(r, req, "enroll")
	v.Data = page
	c.render(w, status, "enroll", v)
}

// enrollResult is what the result page shows after the redirect: IDs,
// counts and finger marks, no biographic values.
type enrollResult struct {
	EncounterID, SubjectID, Site string
	Linked                       bool // the officer gave the subject, and the biometrics verified it
	Fingers, Irises, Faces, SMTs int
	Unprintable, Amputated       []int // fingers marked so, stored as absences
	// Searched tells whether enrollment ran the 1:N search; the rest is
	// its outcome, with the evidence behind it.
	Searched   bool
	Decision   huella.Decision
	Candidates []*huella.Candidate
	Hits       []*huella.Hit
	Recapture  []string // in the officer's language, naming each image by its place
}

// handleEnroll reads the form and its images, builds the encounter and
// hands it to the enrollment service; a rule broken is shown on the form.
func (c *Console) handleEnroll(w http.ResponseWriter, r *http.Request, req *request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxEnrollSize)
	maxImage := c.cfg.Enroll.MaxImageSize
	if maxImage == 0 {
		maxImage = enroll.DefaultMaxImageSize
	}
	form, files, err := readUpload(r, req, int64(maxImage))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "enroll")
	sites, _, err := c.loadSites(r.Context())
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	in := buildEncounter(v, form, files, sites)
	if len(in.Problems) > 0 {
		c.renderEnroll(w, r, req, http.StatusBadRequest, form, in.Problems)
		return
	}
	slots, result := in.Slots, in.Result
	stored, err := c.cfg.Enroll.Enroll(r.Context(), &enroll.Request{Encounter: in.Encounter, Images: in.Images, IdempotencyKey: form.Get("idempotency_key")})
	if err != nil {
		switch huella.ErrorCode(err) {
		case huella.ECONFLICT: // the form was sent before with other data: a new key sends it anew
			form.Set("idempotency_key", randomToken())
			c.renderEnroll(w, r, req, http.StatusConflict, form, []string{v.ErrorText(err)})
		case huella.EINVALID, huella.ETOOLARGE, huella.EUNSUPPORTED, huella.EUNPROCESSABLE, huella.ENOTFOUND, huella.EFORBIDDEN, huella.EUNAVAILABLE:
			c.renderEnroll(w, r, req, access.Status(huella.ErrorCode(err)), form, []string{sampleErrorText(v, err, slots)})
		default:
			c.renderError(w, r, req.user, err)
		}
		return
	}
	result.EncounterID, result.SubjectID, result.Site = stored.ID, stored.SubjectID, stored.SiteCode
	if id := stored.Identification; id != nil {
		// A claimed subject is linked only if the biometrics verified it.
		result.Linked = result.Linked && id.Decision == huella.DecisionLinked
		result.Searched, result.Decision, result.Hits = true, id.Decision, id.Hits
		result.Candidates = id.Candidates
		if len(result.Candidates) > maxCandidatesShown {
			result.Candidates = result.Candidates[:maxCandidatesShown]
		}
		for _, r := range id.Recapture {
			result.Recapture = append(result.Recapture, sampleErrorText(v, huella.Errorf(huella.EUNPROCESSABLE, "%s", r), slots))
		}
	}
	if err := c.sessions.setResult(r.Context(), req.session, result); err != nil {
		// Stored: say so on the list of encounters rather than lose it.
		c.cfg.Logger.Error("console enrollment result", "encounter", stored.ID, "err", err)
		http.Redirect(w, r, "/encounters/"+stored.ID, http.StatusSeeOther)
		return
	}
	c.cfg.Logger.Info("console enrollment", "encounter", stored.ID, "user", req.user.ID)
	http.Redirect(w, r, "/enroll/result", http.StatusSeeOther)
}

func (c *Console) handleEnrollResult(w http.ResponseWriter, r *http.Request, req *request) {
	res, err := c.sessions.takeResult(r.Context(), req.session)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if res == nil {
		http.Redirect(w, r, "/enroll", http.StatusSeeOther)
		return
	}
	sites, _, err := c.loadSites(r.Context())
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "result")
	v.sites = sites
	v.Data = res
	c.render(w, http.StatusOK, "result", v)
}

var samplePrefix = regexp.MustCompile(`^samples\[(\d+)\]: `)

// sampleErrorText shows an enrollment error, naming the image by its place
// on the form (the right thumb, the left iris) rather than its index.
func sampleErrorText(v *view, err error, slots []string) string {
	msg := huella.ErrorMessage(err)
	if m := samplePrefix.FindStringSubmatch(msg); m != nil {
		if i, _ := strconv.Atoi(m[1]); i < len(slots) {
			rest := huella.Errorf(huella.ErrorCode(err), "%s", msg[len(m[0]):])
			return slots[i] + ": " + v.ErrorText(rest)
		}
	}
	return v.ErrorText(err)
}

// enrollForm is the enroll form read: the encounter and its images, what
// each image is for, the outline of the result page, and the problems the
// form itself shows.
type enrollForm struct {
	Encounter *huella.Encounter
	Images    [][]byte
	Slots     []string // Slots[i] names the place of Images[i], for messages
	Result    *enrollResult
	// Problems the domain cannot see (a date that does not parse, an image
	// on a finger marked absent, which the form would otherwise drop);
	// every other rule is the domain's.
	Problems []string
}

// buildEncounter reads the enroll form.
func buildEncounter(v *view, form url.Values, files map[string][]byte, sites map[string]*huella.Site) *enrollForm {
	var problems []string
	res := &enrollResult{}
	e := &huella.Encounter{
		SubjectID: strings.TrimSpace(form.Get("subject_id")),
		SiteCode:  form.Get("site"),
		Reason:    huella.Reason(form.Get("reason")),
		CriminalHistory: huella.CriminalHistory{Status: huella.CriminalHistoryStatus(form.Get("history")),
			Offence: strings.TrimSpace(form.Get("offence"))},
	}
	res.Linked = e.SubjectID != ""
	loc := time.UTC
	if s := sites[e.SiteCode]; s != nil {
		if l, err := time.LoadLocation(s.TimeZone); err == nil {
			loc = l
		}
	}
	if t, err := time.ParseInLocation(datetimeLayout, form.Get("captured_at"), loc); err == nil {
		e.CapturedAt = t
	} else {
		problems = append(problems, v.T("enroll.err.captured_at"))
	}
	b := &e.Biographics
	for i := 0; i < nameRows; i++ {
		n := huella.Name{Given: strings.TrimSpace(form.Get(fmt.Sprintf("given_%d", i))), Family: strings.TrimSpace(form.Get(fmt.Sprintf("family_%d", i)))}
		if n != (huella.Name{}) || i == 0 {
			b.Names = append(b.Names, n)
		}
	}
	for _, p := range []struct {
		field string
		dst   *int
	}{{"birth_year", &b.BirthDate.Year}, {"birth_month", &b.BirthDate.Month}, {"birth_day", &b.BirthDate.Day}} {
		if s := strings.TrimSpace(form.Get(p.field)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				problems = append(problems, v.T("enroll.err.number", v.T("enroll."+p.field)))
				continue
			}
			*p.dst = n
		}
	}
	b.Sex = huella.Sex(form.Get("sex"))
	b.Nationality = strings.ToUpper(strings.TrimSpace(form.Get("nationality")))
	b.PlaceOfBirth = strings.TrimSpace(form.Get("place_of_birth"))
	b.BirthCountry = strings.ToUpper(strings.TrimSpace(form.Get("birth_country")))
	for i := 0; i < documentRows; i++ {
		d := huella.Document{Type: form.Get(fmt.Sprintf("doc_type_%d", i)), Number: strings.TrimSpace(form.Get(fmt.Sprintf("doc_number_%d", i))),
			Country: strings.ToUpper(strings.TrimSpace(form.Get(fmt.Sprintf("doc_country_%d", i))))}
		if d.Number != "" || d.Country != "" {
			b.Documents = append(b.Documents, d)
		}
	}

	var images [][]byte
	var slots []string
	add := func(s huella.Sample, data []byte, slot string) {
		e.Samples = append(e.Samples, &s)
		images = append(images, data)
		slots = append(slots, slot)
	}
	ppi := 0
	if s := strings.TrimSpace(form.Get("ppi")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			problems = append(problems, v.T("enroll.err.number", v.T("enroll.ppi")))
		}
		ppi = n
	}
	device := strings.TrimSpace(form.Get("device"))
	for pos := 1; pos <= 10; pos++ {
		data := files[fmt.Sprintf("finger_%d", pos)]
		mark := form.Get(fmt.Sprintf("finger_status_%d", pos))
		switch mark {
		case fingerUnprintable:
			res.Unprintable = append(res.Unprintable, pos)
		case fingerAmputated:
			res.Amputated = append(res.Amputated, pos)
		default:
			if data != nil {
				add(huella.Sample{Modality: huella.ModalityFinger, Position: pos, Impression: huella.Impression(form.Get("impression")),
					PPI: ppi, Device: device}, data, v.Finger(pos))
				res.Fingers++
			}
			continue
		}
		reason := huella.AbsenceReason(mark)
		e.FingerAbsences = append(e.FingerAbsences, huella.FingerAbsence{Position: pos, Reason: reason})
		if data != nil {
			problems = append(problems, v.T("enroll.err.marked_with_image", v.Finger(pos), v.Enum("absence", reason)))
		}
	}
	for _, eye := range []huella.Eye{huella.EyeRight, huella.EyeLeft} {
		if data := files["iris_"+string(eye)]; data != nil {
			add(huella.Sample{Modality: huella.ModalityIris, Eye: eye}, data, v.T("iris."+string(eye)))
			res.Irises++
		}
	}
	if data := files["face"]; data != nil {
		add(huella.Sample{Modality: huella.ModalityFace}, data, v.T("modality.face"))
		res.Faces++
	}
	for i := 0; i < smtRows; i++ {
		f := func(name string) string { return strings.TrimSpace(form.Get(fmt.Sprintf("%s_%d", name, i))) }
		photo := files[fmt.Sprintf("smt_photo_%d", i)]
		m := &huella.SMT{Type: huella.SMTType(f("smt_type")), Code: strings.ToUpper(f("smt_code")), Class: f("smt_class"),
			Colors: form[fmt.Sprintf("smt_colors_%d", i)], Description: f("smt_desc")}
		if m.Code == "" && m.Description == "" && photo == nil && len(m.Colors) == 0 && m.Class == "" {
			continue // an empty row
		}
		if photo != nil {
			idx := len(e.Samples)
			m.SampleIndex = &idx
			add(huella.Sample{Modality: huella.ModalitySMT}, photo, v.T("enroll.smt_n", i+1))
		}
		e.SMTs = append(e.SMTs, m)
		res.SMTs++
	}
	return &enrollForm{Encounter: e, Images: images, Slots: slots, Result: res, Problems: problems}
}

// readUpload reads a multipart form posted by the console and checks its
// CSRF token against the session's (multipart bodies cannot be checked
// before the handler reads them, as the other forms are); the token is
// removed from the values returned. errCSRF when it does not match.
func readUpload(r *http.Request, req *request, maxImage int64) (url.Values, map[string][]byte, error) {
	form, files, err := readMultipartForm(r, maxImage)
	if err != nil {
		return nil, nil, err
	}
	if req.session.CSRF == "" || subtle.ConstantTimeCompare([]byte(form.Get("csrf")), []byte(req.session.CSRF)) != 1 {
		return nil, nil, errCSRF
	}
	form.Del("csrf")
	return form, files, nil
}

// readMultipartForm reads a multipart form: text fields into values and
// non-empty file parts into memory, each within its limit, so that no
// image is written to a temporary file.
func readMultipartForm(r *http.Request, maxImage int64) (url.Values, map[string][]byte, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, nil, huella.Errorf(huella.EINVALID, "a multipart form was expected")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, huella.Errorf(huella.EINVALID, "malformed multipart body")
	}
	form := url.Values{}
	files := map[string][]byte{}
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, files, nil
		} else if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, nil, err
			}
			return nil, nil, huella.Errorf(huella.EINVALID, "malformed multipart body")
		}
		if n >= maxFormFields {
			return nil, nil, huella.Errorf(huella.EINVALID, "too many form fields")
		}
		name := p.FormName()
		limit := int64(maxFieldSize)
		if p.FileName() != "" {
			limit = maxImage
		}
		data, err := io.ReadAll(io.LimitReader(p, limit+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, nil, err
			}
			return nil, nil, huella.Errorf(huella.EINVALID, "malformed multipart body")
		}
		if int64(len(data)) > limit {
			return nil, nil, huella.Errorf(huella.ETOOLARGE, "the field %s is larger than %d bytes", name, limit)
		}
		if p.FileName() != "" {
			if len(data) > 0 {
				files[name] = data
			}
			continue
		}
		form.Add(name, string(data))
	}
}
