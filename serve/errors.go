package serve

import (
	"errors"
	"fmt"
	"net/http"
)

// code is a canonical error code (absl::StatusCode), the status TensorFlow
// Serving's handlers return before it becomes an HTTP status.
type code int

const (
	codeCancelled          code = 1
	codeUnknown            code = 2
	codeInvalidArgument    code = 3
	codeDeadlineExceeded   code = 4
	codeNotFound           code = 5
	codeResourceExhausted  code = 8
	codeFailedPrecondition code = 9
	codeUnimplemented      code = 12
	codeInternal           code = 13
	codeUnavailable        code = 14
)

var codeNames = map[code]string{
	codeCancelled: "CANCELLED", codeUnknown: "UNKNOWN", codeInvalidArgument: "INVALID_ARGUMENT",
	codeDeadlineExceeded: "DEADLINE_EXCEEDED", codeNotFound: "NOT_FOUND", codeResourceExhausted: "RESOURCE_EXHAUSTED",
	codeFailedPrecondition: "FAILED_PRECONDITION", codeUnimplemented: "UNIMPLEMENTED", codeInternal: "INTERNAL",
	codeUnavailable: "UNAVAILABLE",
}

// httpStatus is ToHTTPStatusCode of tensorflow_serving/model_servers/http_server.cc.
func (c code) httpStatus() int {
	switch c {
	case codeCancelled:
		return 499 // CLIENT_CLOSED_REQUEST
	case codeInvalidArgument, codeFailedPrecondition:
		return http.StatusBadRequest
	case codeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case codeNotFound:
		return http.StatusNotFound
	case codeResourceExhausted:
		return http.StatusTooManyRequests
	case codeUnimplemented:
		return http.StatusNotImplemented
	case codeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// apiError is an error with its canonical code; the server answers it with
// the code's HTTP status and {"error": msg}.
type apiError struct {
	code code
	msg  string
	// status overrides the HTTP status (413 for an oversized body, which
	// TensorFlow Serving has no limit for).
	status int
}

func (e *apiError) Error() string { return e.msg }

func (e *apiError) httpStatus() int {
	if e.status != 0 {
		return e.status
	}
	return e.code.httpStatus()
}

func invalidArgf(format string, args ...any) error {
	return &apiError{code: codeInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

func invalidArg(err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return err
	}
	return &apiError{code: codeInvalidArgument, msg: err.Error()}
}

func notFoundf(format string, args ...any) error {
	return &apiError{code: codeNotFound, msg: fmt.Sprintf(format, args...)}
}

// asAPIError gives any error a code (Unknown when it has none).
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return &apiError{code: codeUnknown, msg: err.Error()}
}
