// Package access is the one table of who may do what that the API and the
// console share: the role sets their routes and pages admit, the purpose
// each role's work is done for when a request names none, and the HTTP
// status of each domain error code. http/access_test.go holds the API to
// it route by route.
package access

import (
	"net/http"

	"github.com/huella-abis/huella"
)

// Role sets.
var (
	Everyone    = huella.Roles
	Officers    = []huella.Role{huella.RoleOfficer}
	Examiners   = []huella.Role{huella.RoleExaminer}
	Supervisors = []huella.Role{huella.RoleSupervisor} // purge people's records, read subject reports
	Auditors    = []huella.Role{huella.RoleAuditor}
	Partners    = []huella.Role{huella.RolePartner}
	Admins      = []huella.Role{huella.RoleAdmin}

	// Readers read encounters and subjects and search them, by name or by
	// image: the officers who enroll, and those who review what they did.
	Readers = []huella.Role{huella.RoleOfficer, huella.RoleExaminer, huella.RoleSupervisor}
	// Stats read counts, which are not personal data.
	Stats = []huella.Role{huella.RoleOfficer, huella.RoleExaminer, huella.RoleSupervisor, huella.RoleAuditor, huella.RoleAdmin}
	// HitReaders see the examiners' queue and hits; only examiners decide
	// (Examiners), at their sites.
	HitReaders = []huella.Role{huella.RoleExaminer, huella.RoleSupervisor}
	// WatchlistReaders list watchlists: a partner its own.
	WatchlistReaders = []huella.Role{huella.RoleExaminer, huella.RoleSupervisor, huella.RolePartner, huella.RoleAdmin}
	// WatchlistOwners create watchlists and add and remove entries: the
	// program's (supervisors, admins) or, for a partner, its own.
	WatchlistOwners = []huella.Role{huella.RoleSupervisor, huella.RolePartner, huella.RoleAdmin}
	// DeliveryReaders oversee forwarding: deliveries, their attempts and
	// receipts, never the forwarded record.
	DeliveryReaders = []huella.Role{huella.RoleAdmin, huella.RoleSupervisor, huella.RoleAuditor}
)

// purposes is the purpose of each role's work.
var purposes = map[huella.Role]huella.Purpose{
	huella.RoleOfficer:    huella.PurposeEnforcement,
	huella.RoleExaminer:   huella.PurposeAdjudication,
	huella.RoleSupervisor: huella.PurposeInvestigation,
	huella.RoleAuditor:    huella.PurposeAudit,
	huella.RolePartner:    huella.PurposeForwarding,
	huella.RoleAdmin:      huella.PurposeAdministration,
}

// Purpose returns the purpose a user of the role works for, which the audit
// records when a request names none.
func Purpose(r huella.Role) huella.Purpose { return purposes[r] }

var statuses = map[string]int{
	huella.ECONFLICT:      http.StatusConflict,
	huella.EFORBIDDEN:     http.StatusForbidden,
	huella.EINTERNAL:      http.StatusInternalServerError,
	huella.EINVALID:       http.StatusBadRequest,
	huella.ENOTFOUND:      http.StatusNotFound,
	huella.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	huella.EUNAUTHORIZED:  http.StatusUnauthorized,
	huella.EUNSUPPORTED:   http.StatusUnsupportedMediaType,
	huella.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	huella.EUNAVAILABLE:   http.StatusServiceUnavailable,
	huella.ETOOMANY:       http.StatusTooManyRequests,
}

// Status returns the HTTP status of a domain error code (huella.ErrorCode);
// 500 for a code it does not know.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
