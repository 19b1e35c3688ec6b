package webadmin

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
)

// openAPIBase is the hand-written OpenAPI 3 document of the built-in API; the
// features' paths are merged into it.
//
//go:embed openapi.json
var openAPIBase []byte

// openAPIDocument returns the served document: the base with every feature's
// paths added.
func (s *Server) openAPIDocument() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIBase, &doc); err != nil {
		return nil, fmt.Errorf("webadmin: openapi.json: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, f := range s.deps.Features {
		if len(f.OpenAPIPaths) == 0 {
			continue
		}
		var more map[string]any
		if err := json.Unmarshal(f.OpenAPIPaths, &more); err != nil {
			return nil, fmt.Errorf("webadmin: OpenAPI paths of feature %s: %w", f.Name, err)
		}
		for k, v := range more {
			paths[k] = v
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	b, err := s.openAPIDocument()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
