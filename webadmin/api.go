package webadmin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The REST API's conventions, for every resource: JSON with snake_case fields;
// errors as {"error": {"code", "message", "field"}}; lists take limit and offset
// and answer {"items": [...], "total": N}; create answers 201 with the object.

// apiErrorBody is the JSON shape of every API error.
type apiErrorBody struct {
	Error apiErrorDetail `json:"error"`
}

type apiErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// listBody is the JSON shape of every list.
type listBody[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeAPIError(w http.ResponseWriter, status int, code, field, message string) {
	writeJSON(w, status, apiErrorBody{Error: apiErrorDetail{Code: code, Message: message, Field: field}})
}

// apiFail answers err with the status its kind calls for.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var v *ValidationError
	var c *ConflictError
	var t *ThrottledError
	switch {
	case errors.As(err, &v):
		writeAPIError(w, http.StatusBadRequest, "invalid", v.Field, v.Field+" "+v.Message)
	case errors.As(err, &c):
		writeAPIError(w, http.StatusConflict, "conflict", c.Field, c.Message)
	case errors.As(err, &t):
		writeAPIError(w, http.StatusTooManyRequests, "throttled", "", "too many attempts")
	case errors.Is(err, ErrNotFound):
		writeAPIError(w, http.StatusNotFound, "not_found", "", "no such object")
	case errors.Is(err, ErrForbidden):
		writeAPIError(w, http.StatusForbidden, "forbidden", "", "your role does not allow this")
	case errors.Is(err, ErrUnauthenticated):
		writeAPIError(w, http.StatusUnauthorized, "unauthorized", "", "not authenticated")
	default:
		s.serverError(w, r, err)
	}
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// decodeJSON reads the request body into v, refusing unknown fields, trailing
// data and wrong types with a ValidationError naming the field.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return invalid("body", "must be application/json")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field == "":
			return invalid("body", "must be a JSON object")
		case errors.As(err, &te):
			return invalid(te.Field, "has the wrong type (want %s)", te.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			if f == "" || len(f) > 100 {
				return invalid("body", "has an unknown field")
			}
			return invalid(f, "is not a known field")
		case errors.Is(err, io.EOF):
			return invalid("body", "is empty")
		default:
			return invalid("body", "is not valid JSON")
		}
	}
	if dec.More() {
		return invalid("body", "has data after the JSON object")
	}
	return nil
}

// pageParams reads limit and offset.
func pageParams(r *http.Request) (Page, error) {
	var p Page
	q := r.URL.Query()
	for _, f := range []struct {
		name string
		dst  *int
		max  int
	}{{"limit", &p.Limit, MaxLimit}, {"offset", &p.Offset, 1 << 30}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > f.max {
			return p, invalid(f.name, "must be a whole number from 0 to %d", f.max)
		}
		*f.dst = n
	}
	if q.Get("limit") == "0" {
		return p, invalid("limit", "must be a whole number from 1 to %d", MaxLimit)
	}
	return p, nil
}

func principal(r *http.Request) Principal {
	p, _ := PrincipalFrom(r.Context())
	return p
}

func errorf(format string, a ...any) error { return fmt.Errorf("webadmin: "+format, a...) }
