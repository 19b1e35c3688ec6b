package webcall

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestJoinPage(t *testing.T) {
	r := newRig(t, Config{}, testRoom)
	resp, body := get(t, r.hs.URL+"/join/1234")
	if resp.StatusCode != 200 || !strings.Contains(body, `<label for="name">`) {
		t.Fatalf("join page: %d %q", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|\sstyle="|\son[a-z]+="|https?://`).MatchString(body) {
		t.Error("the page has inline script, inline style, event attributes or an external URL")
	}
	for _, f := range []string{"join.js", "join.css"} {
		resp, body := get(t, r.hs.URL+"/join-assets/"+f)
		if resp.StatusCode != 200 || len(body) < 100 {
			t.Errorf("%s: %d, %d bytes", f, resp.StatusCode, len(body))
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Errorf("%s loads something from elsewhere", f)
		}
	}
	if resp, _ := get(t, r.hs.URL+"/join/9999"); resp.StatusCode != 404 {
		t.Errorf("unknown room: %d, want 404", resp.StatusCode)
	}
	for _, f := range []string{"join.html", "..%2fpage.go", "nope.js"} {
		if resp, _ := get(t, r.hs.URL+"/join-assets/"+f); resp.StatusCode != 404 {
			t.Errorf("/join-assets/%s: %d, want 404", f, resp.StatusCode)
		}
	}
}
