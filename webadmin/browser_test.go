package webadmin

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// artifactDir is where browser tests leave screenshots: $BIFROST_TEST_ARTIFACTS
// when set, else the test's artifact directory (kept with go test -artifacts,
// under the output directory -outputdir).
func artifactDir(t *testing.T) string {
	if d := os.Getenv("BIFROST_TEST_ARTIFACTS"); d != "" {
		d = filepath.Join(d, t.Name())
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// browser starts Debian's headless Chromium for t, or skips (fails with
// CI=true) when it is missing.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found (CI=true: a missing browser is a failure): %v", err)
		}
		t.Skipf("chromium not found (apt-get install chromium): %v", err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// TestBrowserSignInCreateRoomAudit drives a real Chromium through the admin: sign
// in, create a room, see it listed with its SIP URI, see the audit entry. It
// saves screenshots of the rooms page, wide and narrow, as artifacts.
func TestBrowserSignInCreateRoomAudit(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	// Plain HTTP on 127.0.0.1, real time (the browser's cookie expiry is real).
	srv := New(Config{Addr: "127.0.0.1:0"}, Deps{DB: e.db})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	ctx := browser(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/admin/rooms"),
		chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "admin@acme.example"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), e.password),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`table#rooms`)),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/admin/rooms") {
		t.Errorf("after sign-in the browser is at %s, want the page it asked for", loc)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/admin/rooms/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#f-name`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Board room"),
		chromedp.SendKeys(chromedp.CSS(`#f-alias`), "4711"),
		chromedp.SendKeys(chromedp.CSS(`#f-name_alias`), "board.room"),
		chromedp.SendKeys(chromedp.CSS(`#f-host_pin`), "8642"),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	if err != nil {
		t.Fatalf("create the room: %v", err)
	}
	table, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table#rooms`)))
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(ts.URL, "http://")
	for _, want := range []string{"Board room", "4711", "board.room", "sip:4711@127.0.0.1", "http://" + host + "/join/4711", "host 8642"} {
		if !strings.Contains(table, want) {
			t.Errorf("the rooms list lacks %q:\n%s", want, table)
		}
	}
	// A keyboard user's first Tab reaches the skip link, the next ones the
	// navigation, with a visible focus ring.
	err = chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/admin/rooms"), chromedp.WaitVisible(chromedp.CSS(`table#rooms`)), chromedp.KeyEvent("\t"))
	if err != nil {
		t.Fatal(err)
	}
	if focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent`)); err != nil || focused != "Skip to content" {
		t.Errorf("the first Tab focuses %q (%v), want the skip link", focused, err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	outline, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`))
	if err != nil || outline == "none" {
		t.Errorf("the focused navigation link has outline %q (%v), want a visible focus ring", outline, err)
	}
	dir := artifactDir(t)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rooms.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}

	// A narrow screen: the page must not scroll sideways (the table scrolls
	// inside its own box).
	err = chromedp.Do(ctx, chromedp.EmulateViewport(375, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`table#rooms`)))
	if err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || overflow {
		t.Errorf("at 375 px the page scrolls sideways (%v)", err)
	}
	if shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		err = os.WriteFile(filepath.Join(dir, "rooms-narrow.png"), shot, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)

	err = chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(ts.URL+"/admin/audit?action=room.create"), chromedp.WaitVisible(chromedp.CSS(`table#audit`)))
	if err != nil {
		t.Fatal(err)
	}
	audit, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table#audit tbody`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(audit, "room.create") || !strings.Contains(audit, "admin@acme.example") || !strings.Contains(audit, "4711") {
		t.Errorf("the audit log lacks the room's creation:\n%s", audit)
	}
	if strings.Contains(audit, "8642") {
		t.Errorf("the audit log shows the PIN:\n%s", audit)
	}
}
