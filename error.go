package huella

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. The HTTP layer maps each to a status;
// any error without a code is an internal error to the caller.
const (
	ECONFLICT      = "conflict"      // the object exists, or changed under the caller
	EFORBIDDEN     = "forbidden"     // authenticated, but not allowed
	EINTERNAL      = "internal"      // a fault of ours; details are logged, not shown
	EINVALID       = "invalid"       // the input breaks a rule
	ENOTFOUND      = "not_found"     // no such object (or not visible to the caller)
	ETOOLARGE      = "too_large"     // a payload or image over its limit
	EUNAUTHORIZED  = "unauthorized"  // no or bad credentials
	EUNSUPPORTED   = "unsupported"   // a format or feature we do not handle
	EUNPROCESSABLE = "unprocessable" // well-formed, but no usable biometric in it
	EUNAVAILABLE   = "unavailable"   // not ready yet (a gallery loading); try again
	ETOOMANY       = "too_many"      // over a rate limit; try again later
)

// Error is a domain error. Message is safe to show to the caller: it names
// fields and rules, never biographic values or biometric data.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("huella: code=%s message=%s", e.Code, e.Message) }

// Errorf returns a domain error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the domain error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the caller-safe message of the domain error in err's
// chain, or "internal error" for any other error.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
