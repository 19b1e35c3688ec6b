package cdr

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bifrost-video/bifrost/internal/cli"
)

// Hooks are the other packages' parts of the privacy work, wired in
// cmd/bifrost: the directory's entries and phonebook request log (and any
// other table with personal data) as subject sources and anonymisers.
type Hooks struct {
	Sources     []SubjectSource
	Anonymisers []Anonymiser
}

// Commands returns the subcommands this package contributes to the bifrost binary:
// `cdr anonymise`, `cdr sink add|list`, `privacy export|erase` and `org delete`.
func Commands() []*cli.Command { return CommandsWith(Hooks{}) }

// CommandsWith is Commands with other packages' hooks.
func CommandsWith(h Hooks) []*cli.Command {
	runAnonymise := func(ctx context.Context, env cli.Env, args []string) error { return runAnonymise(ctx, env, args, h) }
	runPrivacyExport := func(ctx context.Context, env cli.Env, args []string) error {
		return runPrivacyExport(ctx, env, args, h)
	}
	runPrivacyErase := func(ctx context.Context, env cli.Env, args []string) error { return runPrivacyErase(ctx, env, args, h) }
	return []*cli.Command{
		{Name: "cdr", Summary: "call detail records", Sub: []*cli.Command{
			{Name: "anonymise", Summary: "anonymise call records older than each organisation's retention (the daily job, now)",
				Usage: "[--as-of TIME] [--dry-run]", Run: runAnonymise},
			{Name: "sink", Summary: "event sinks", Sub: []*cli.Command{
				{Name: "add", Summary: "add an HTTP receiver of an organisation's conference and leg events",
					Usage: "--org ORG --name NAME --url URL [--bearer-token-file F | --basic-user U --basic-password-file F] [--insecure-skip-verify]",
					Run:   runSinkAdd},
				{Name: "list", Summary: "list an organisation's event sinks", Usage: "--org ORG", Run: runSinkList},
			}},
		}},
		{Name: "privacy", Summary: "subject access and erasure (GDPR art. 15 and 17)", Sub: []*cli.Command{
			{Name: "export", Summary: "print everything stored about a person as JSON",
				Usage: "--org ORG --subject EMAIL|SIP-URI|PHONE|NAME", Run: runPrivacyExport},
			{Name: "erase", Summary: "delete or anonymise everything stored about a person",
				Usage: "--org ORG --subject EMAIL|SIP-URI|PHONE|NAME --confirm", Run: runPrivacyErase},
		}},
		{Name: "org", Summary: "organisations", Sub: []*cli.Command{
			{Name: "delete", Summary: "delete an organisation and every row it owns", Usage: "ORG --confirm", Run: runOrgDelete},
		}},
	}
}

// parseAll parses flags that may come before or after positional arguments.
func parseAll(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		rest, err := cli.Parse(fs, args)
		if err != nil {
			return nil, err
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func printJSON(env cli.Env, v any) error {
	enc := json.NewEncoder(env.Stdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runAnonymise(ctx context.Context, env cli.Env, args []string, h Hooks) error {
	fs := cli.FlagSet("cdr anonymise")
	asOf := fs.String("as-of", "", "reference time, RFC 3339 (default: now)")
	dry := fs.Bool("dry-run", false, "count only")
	if pos, err := parseAll(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return cli.UsageError("unexpected argument %q", pos[0])
	}
	at := env.Now()
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339, *asOf)
		if err != nil {
			return cli.UsageError("--as-of %q: want RFC 3339, e.g. 2026-01-31T00:00:00Z", *asOf)
		}
		at = t
	}
	db, err := env.DB(ctx)
	if err != nil {
		return err
	}
	r := &Retention{DB: db, Now: env.Now, Logger: env.Logger(), Extra: h.Anonymisers}
	rep, err := r.Run(ctx, at, *dry)
	if err != nil {
		return err
	}
	return printJSON(env, rep)
}

func orgFlag(ctx context.Context, env cli.Env, org string) (string, error) {
	if org == "" {
		return "", cli.UsageError("--org is required")
	}
	db, err := env.DB(ctx)
	if err != nil {
		return "", err
	}
	return FindOrganisation(ctx, db, org)
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cdr: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func runSinkAdd(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("cdr sink add")
	org := fs.String("org", "", "organisation name or ID")
	name := fs.String("name", "", "sink name")
	u := fs.String("url", "", "receiver URL")
	tokenFile := fs.String("bearer-token-file", "", "file holding the bearer token")
	user := fs.String("basic-user", "", "basic auth user")
	passFile := fs.String("basic-password-file", "", "file holding the basic auth password")
	insecure := fs.Bool("insecure-skip-verify", false, "do not verify the receiver's TLS certificate")
	if _, err := parseAll(fs, args); err != nil {
		return err
	}
	s := Sink{Name: *name, URL: *u, Auth: "none", TLSVerify: !*insecure}
	var err error
	switch {
	case *tokenFile != "" && *user != "":
		return cli.UsageError("choose bearer or basic auth, not both")
	case *tokenFile != "":
		s.Auth = "bearer"
		s.Secret, err = readSecretFile(*tokenFile)
	case *user != "":
		s.Auth, s.Username = "basic", *user
		if *passFile == "" {
			return cli.UsageError("--basic-user needs --basic-password-file")
		}
		s.Secret, err = readSecretFile(*passFile)
	}
	if err != nil {
		return err
	}
	if s.OrganisationID, err = orgFlag(ctx, env, *org); err != nil {
		return err
	}
	db, err := env.DB(ctx)
	if err != nil {
		return err
	}
	key, err := env.SecretKey()
	if err != nil {
		return err
	}
	id, err := CreateSink(ctx, db, key, s)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout(), id)
	return nil
}

func runSinkList(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("cdr sink list")
	org := fs.String("org", "", "organisation name or ID")
	if _, err := parseAll(fs, args); err != nil {
		return err
	}
	id, err := orgFlag(ctx, env, *org)
	if err != nil {
		return err
	}
	db, err := env.DB(ctx)
	if err != nil {
		return err
	}
	sinks, err := ListSinks(ctx, db, id)
	if err != nil {
		return err
	}
	return printJSON(env, sinks) // Secret is never encoded
}

func subjectFlags(ctx context.Context, env cli.Env, name string, args []string, needConfirm bool) (string, Subject, error) {
	fs := cli.FlagSet(name)
	org := fs.String("org", "", "organisation name or ID")
	subject := fs.String("subject", "", "e-mail, SIP URI, phone number or name")
	confirm := fs.Bool("confirm", false, "really do it")
	if _, err := parseAll(fs, args); err != nil {
		return "", Subject{}, err
	}
	if *subject == "" {
		return "", Subject{}, cli.UsageError("--subject is required")
	}
	if needConfirm && !*confirm {
		return "", Subject{}, fmt.Errorf("%w: erasure cannot be undone", ErrConfirm)
	}
	s, err := ParseSubject(*subject)
	if err != nil {
		return "", Subject{}, cli.UsageError("%v", err)
	}
	id, err := orgFlag(ctx, env, *org)
	return id, s, err
}

func runPrivacyExport(ctx context.Context, env cli.Env, args []string, h Hooks) error {
	org, s, err := subjectFlags(ctx, env, "privacy export", args, false)
	if err != nil {
		return err
	}
	db, err := env.DB(ctx)
	if err != nil {
		return err
	}
	exp, err := (&Privacy{DB: db, Now: env.Now, Sources: h.Sources}).Export(ctx, org, s)
	if err != nil {
		return err
	}
	return printJSON(env, exp)
}

func runPrivacyErase(ctx context.Context, env cli.Env, args []string, h Hooks) error {
	org, s, err := subjectFlags(ctx, env, "privacy erase", args, true)
	if err != nil {
		return err
	}
	db, err := env.DB(ctx)
	if err != nil {
		return err
	}
	counts, err := (&Privacy{DB: db, Now: env.Now, Sources: h.Sources}).Erase(ctx, org, s)
	if err != nil {
		return err
	}
	return printJSON(env, counts)
}

func runOrgDelete(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("org delete")
	confirm := fs.Bool("confirm", false, "really delete")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("name one organisation")
	}
	if !*confirm {
		return fmt.Errorf("%w: deleting an organisation removes all its data for good", ErrConfirm)
	}
	id, err := orgFlag(ctx, env, pos[0])
	if err != nil {
		return err
	}
	db, err := env.DB(ctx)
	if err != nil {
		return err
	}
	removed, err := DeleteOrganisation(ctx, db, id)
	if err != nil {
		return err
	}
	return printJSON(env, map[string]any{"deleted": id, "rows": removed})
}
