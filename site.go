package huella

import (
	"regexp"
	"time"
)

// Site is a facility where encounters are captured, such as the detention
// centre at Tapachula (MX-TAP).
type Site struct {
	Code      string    `json:"code"`      // e.g. MX-TAP: country alpha-2, a dash, 2–8 letters or digits
	Name      string    `json:"name"`      // human name of the facility
	Country   string    `json:"country"`   // ISO 3166-1 alpha-3, e.g. MEX
	TimeZone  string    `json:"time_zone"` // IANA name, e.g. America/Mexico_City
	CreatedAt time.Time `json:"created_at"`
}

var siteCodePattern = regexp.MustCompile(`^[A-Z]{2}-[A-Z0-9]{2,8}$`)

// Validate reports the first rule the site breaks, as an EINVALID error.
func (s *Site) Validate() error {
	switch {
	case !siteCodePattern.MatchString(s.Code):
		return Errorf(EINVALID, "site code must look like MX-TAP (country, dash, 2-8 letters or digits)")
	case s.Name == "" || len(s.Name) > 200:
		return Errorf(EINVALID, "site name required (at most 200 characters)")
	case !IsCountryCode(s.Country):
		return Errorf(EINVALID, "site country must be an ISO 3166-1 alpha-3 code")
	}
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" {
		return Errorf(EINVALID, "site time zone must be an IANA name such as America/Mexico_City")
	}
	return nil
}
