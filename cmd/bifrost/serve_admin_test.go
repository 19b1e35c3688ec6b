package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestFirstStartPasswordSignsIn is what a person does after `make run`: open the
// printed admin URL and sign in with the printed e-mail and password.
func TestFirstStartPasswordSignsIn(t *testing.T) {
	s := startServe(t, dataDir(t))
	defer s.stop(t)
	out := s.stdout.String()
	admin := regexp.MustCompile(`Admin:\s+(\S+)`).FindStringSubmatch(out)
	cred := regexp.MustCompile(`Sign in as (\S+) with password (\S+)`).FindStringSubmatch(out)
	if admin == nil || cred == nil {
		t.Fatalf("the banner lacks the admin URL or the credentials:\n%s", out)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.Get(admin[1])
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.HasSuffix(res.Request.URL.Path, "/admin/login") {
		t.Fatalf("the admin URL leads to %s, want the sign-in page", res.Request.URL)
	}
	res, err = client.PostForm(strings.TrimSuffix(admin[1], "/")+"/login", url.Values{
		"email": {cred[1]}, "password": {cred[2]}, "next": {"/admin/rooms"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasSuffix(res.Request.URL.Path, "/admin/rooms") || !strings.Contains(string(body), "Demo room") {
		t.Errorf("signing in with the printed password: %d at %s:\n%s", res.StatusCode, res.Request.URL, body)
	}
}
