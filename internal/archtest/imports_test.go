package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/bifrost-video/bifrost"

// rule forbids packages under from (the package itself or its subpackages) to
// depend, directly or not, on any package under one of the forbidden prefixes.
type rule struct {
	from   string
	forbid []string
	why    string
}

var rules = []rule{
	{"bridge/media", []string{""}, "the media core is a leaf: it imports nothing of the module"},
	{"bridge", []string{"migrations", "directory", "cdr", "webadmin", "cmd"}, "the bridge never touches storage or the admin; it declares interfaces that cmd/bifrost adapts"},
	{"directory", []string{"bridge", "cdr", "webadmin", "cmd"}, "the directory knows nothing of calls"},
	{"cdr", []string{"bridge", "directory", "webadmin", "cmd"}, "call records know nothing of the bridge; cmd/bifrost adapts them to bridge.CallObserver"},
	{"webadmin", []string{"bridge", "migrations", "cmd"}, "the admin sees the bridge only through a view it declares"},
	{"migrations", []string{"bridge", "directory", "cdr", "webadmin", "internal", "cmd"}, "the schema and its helpers stand alone"},
	{"internal", []string{"bridge", "directory", "cdr", "webadmin", "migrations", "cmd"}, "shared helpers belong to no domain"},
}

func under(pkg, prefix string) bool {
	if prefix == "" {
		return strings.HasPrefix(pkg, module+"/") || pkg == module
	}
	p := module + "/" + prefix
	return pkg == p || strings.HasPrefix(pkg, p+"/")
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		for _, r := range rules {
			if !under(pkg, r.from) {
				continue
			}
			checked++
			for _, d := range deps {
				if !under(d, "") || under(d, r.from) {
					continue // outside the module, or inside the rule's own tree
				}
				for _, f := range r.forbid {
					if under(d, f) {
						t.Errorf("%s depends on %s: %s", strings.TrimPrefix(pkg, module+"/"), strings.TrimPrefix(d, module+"/"), r.why)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package matched any rule: the rule table or the module path is out of date")
	}
}

// TestRulesCatchAViolation makes sure the checker is not vacuous: a made-up
// dependency of the bridge on the web admin is reported.
func TestRulesCatchAViolation(t *testing.T) {
	bridgeRule := rules[1]
	dep := module + "/webadmin"
	found := false
	for _, f := range bridgeRule.forbid {
		if under(dep, f) {
			found = true
		}
	}
	if !found || !under(module+"/bridge/sipcall", bridgeRule.from) {
		t.Fatal("the bridge rule does not forbid bridge/sipcall → webadmin")
	}
	if under(module+"/bridgeway", "bridge") {
		t.Fatal("prefix matching must respect path boundaries")
	}
}
