package http

import (
	"encoding/json"
	"net/http"
	"strings"
)

// errorResponse is the body of every error: an RFC 9457 problem
// (application/problem+json) that keeps Huella's own code and message, so
// that clients reading {code, message} go on working.
type errorResponse struct {
	Type   string `json:"type"`   // "about:blank": the status says what happened
	Title  string `json:"title"`  // the status's text, e.g. "Not Found"
	Status int    `json:"status"` // the HTTP status
	Detail string `json:"detail"` // what went wrong, safe to show: no personal data
	// Code is Huella's error code (huella.E*), the one to branch on.
	Code string `json:"code"`
	// Message repeats Detail for clients of the {code, message} form.
	Message string `json:"message"`
}

// problemContentType is the media type of error bodies (RFC 9457).
const problemContentType = "application/problem+json"

// writeProblem writes an error body with its status.
func writeProblem(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", problemContentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(errorResponse{Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: message, Code: code, Message: message})
}

// codeMethodNotAllowed is the code of a 405: the path exists, the method
// does not. It is an HTTP matter, not a domain error.
const codeMethodNotAllowed = "method_not_allowed"

// methodNotAllowed answers 405 with Allow when another method is served at
// the request's path, and reports whether it did. The catch-all route
// (console, 404) would otherwise swallow wrong methods.
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) bool {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return false
	}
	if contains(allow, http.MethodGet) {
		allow = append(allow, http.MethodHead)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "method "+r.Method+" is not allowed here; allowed: "+strings.Join(allow, ", "))
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
