package phonebook

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// JSONPath answers browse and search as JSON, below /pb/{token}: for
// browsers and integrations, from the same query layer as the endpoints.
const JSONPath = "/search.json"

const jsonContentType = "application/json"

// JSONItem is a folder or contact in a JSON answer.
type JSONItem struct {
	Type   string      `json:"type"` // folder or contact
	ID     string      `json:"id"`
	Name   string      `json:"name"`
	Kind   string      `json:"kind,omitempty"` // person, room, endpoint
	Routes []JSONRoute `json:"routes,omitempty"`
	Phone  string      `json:"phone,omitempty"`
	Mobile string      `json:"mobile,omitempty"`
}

// JSONRoute is one way to call a contact.
type JSONRoute struct {
	Protocol   string `json:"protocol"`
	DialString string `json:"dial_string"`
}

// JSONResult is one page of a JSON answer.
type JSONResult struct {
	Folder       string     `json:"folder"`
	FolderName   string     `json:"folder_name"`
	FolderExists bool       `json:"folder_exists"`
	Total        int        `json:"total"`
	IsFirst      bool       `json:"is_first"`
	IsLast       bool       `json:"is_last"`
	Items        []JSONItem `json:"items"`
}

// NewJSONResult renders a Result for JSON.
func NewJSONResult(res Result) JSONResult {
	out := JSONResult{Folder: res.FolderID, FolderName: res.FolderName, FolderExists: res.FolderExists, Total: res.Total,
		IsFirst: res.IsFirst, IsLast: res.IsLast, Items: make([]JSONItem, 0, len(res.Items))}
	for _, it := range res.Items {
		if f := it.Folder; f != nil {
			out.Items = append(out.Items, JSONItem{Type: "folder", ID: f.ID, Name: f.Name})
			continue
		}
		c := it.Contact
		ji := JSONItem{Type: "contact", ID: c.ID, Name: c.Name, Kind: string(c.Kind), Phone: c.Phone, Mobile: c.Mobile}
		for _, r := range c.Routes {
			ji.Routes = append(ji.Routes, JSONRoute(r))
		}
		out.Items = append(out.Items, ji)
	}
	return out
}

// QueryFromURL reads a Query from q (search text), folder, limit, after
// (StartFromId) and before (EndAtId).
func QueryFromURL(r *http.Request) Query {
	v := r.URL.Query()
	limit, _ := strconv.Atoi(v.Get("limit"))
	return Query{Text: field(v.Get("q")), FolderID: field(v.Get("folder")), Limit: limit,
		StartFromID: field(v.Get("after")), EndAtID: field(v.Get("before"))}
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, c *call) {
	q := QueryFromURL(r)
	res := c.view.Search(q)
	c.rec.Operation = "browse"
	if q.Text != "" {
		c.rec.Operation = "search"
	}
	c.rec.SearchString, c.rec.SearchPath, c.rec.FolderPath = q.Text, q.FolderID, res.FolderPath
	c.rec.MaxResult, c.rec.StartFrom, c.rec.ResultCount, c.rec.Total = q.Limit, q.StartFromID, len(res.Items), res.Total
	b, _ := json.Marshal(NewJSONResult(res))
	write(w, http.StatusOK, jsonContentType, b)
}
