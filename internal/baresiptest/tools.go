package baresiptest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Need returns the path of a binary a test needs, skipping the test when it
// is missing, or failing it with CI=true; pkg names its Debian package.
func Need(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (%v); install the Debian package %s (scripts/deps.sh test)", name, err, pkg)
		}
		t.Skipf("%s is missing (%v); install the Debian package %s (scripts/deps.sh test)", name, err, pkg)
	}
	return p
}

// ModulePath returns the directory of baresip's modules: the one Debian's
// baresip-core lists, else /usr/lib/baresip/modules.
func ModulePath() (string, error) {
	out, err := exec.Command("dpkg", "-L", "baresip-core").Output()
	if err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasSuffix(l, "/modules") {
				return l, nil
			}
		}
	}
	if st, err := os.Stat("/usr/lib/baresip/modules"); err == nil && st.IsDir() {
		return "/usr/lib/baresip/modules", nil
	}
	return "", errNoModules
}
