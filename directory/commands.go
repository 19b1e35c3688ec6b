package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/cli"
)

// Commands returns the subcommands this package contributes to the bifrost
// binary: `bifrost ldap add|list|sync`.
func Commands() []*cli.Command {
	return []*cli.Command{{
		Name:    "ldap",
		Summary: "LDAP / Active Directory sources of the directory",
		Sub: []*cli.Command{
			{
				Name:    "add",
				Summary: "add an LDAP source to an organisation's directory",
				Usage: "--org ORG --name NAME --url URL [--bind-dn DN --bind-password-file F] --base-dn DN [--base-dn DN]... " +
					"[--filter F] [--map field=expression]... [--preset inetorgperson|ad] [--folders none|ou:ROOT_DN|attr:NAME] " +
					"[--interval 15m] [--start-tls] [--ca-file F] [--scope sub|one|base] [--page-size N] [--key-attribute A] " +
					"[--guard-deletes N] [--guard-percent P]",
				Run: runLDAPAdd,
			},
			{Name: "list", Summary: "list an organisation's LDAP sources", Usage: "--org ORG", Run: runLDAPList},
			{
				Name:    "sync",
				Summary: "sync an LDAP source now and print the run report as JSON (exit 1 if it failed or was guarded)",
				Usage:   "--org ORG --source NAME [--dry-run] [--confirm]",
				Run:     runLDAPSync,
			},
		},
	}}
}

// orgID finds an organisation by name (case-insensitive) or ID.
func orgID(ctx context.Context, db *sqlx.DB, org string) (string, error) {
	if org == "" {
		return "", cli.UsageError("--org is required")
	}
	var id string
	err := db.GetContext(ctx, &id, `SELECT id FROM organisations WHERE lower(name) = lower($1) OR id::text = lower($1)`, org)
	if err != nil {
		return "", fmt.Errorf("organisation %q: %w", org, notFound(err, "organisation"))
	}
	return id, nil
}

func runLDAPAdd(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("ldap add")
	var (
		in                  SourceInput
		bases, maps         cli.MultiFlag
		org, pwFile, caFile string
		folders, preset     string
		interval            time.Duration
	)
	fs.StringVar(&org, "org", "", "organisation name or ID")
	fs.StringVar(&in.Name, "name", "", "source name")
	fs.StringVar(&in.URL, "url", "", "ldap:// or ldaps:// URL")
	fs.StringVar(&in.BindDN, "bind-dn", "", "bind DN (empty: anonymous)")
	fs.StringVar(&pwFile, "bind-password-file", "", "file holding the bind password")
	fs.Var(&bases, "base-dn", "base DN (repeatable)")
	fs.StringVar(&in.Filter, "filter", "", "LDAP filter")
	fs.Var(&maps, "map", "field=expression (repeatable)")
	fs.StringVar(&preset, "preset", "", "inetorgperson (default) or ad")
	fs.StringVar(&folders, "folders", "none", "none, ou:ROOT_DN or attr:NAME")
	fs.DurationVar(&interval, "interval", 0, "sync interval (0: manual only)")
	fs.BoolVar(&in.StartTLS, "start-tls", false, "upgrade ldap:// with StartTLS")
	fs.StringVar(&caFile, "ca-file", "", "PEM CA certificate to trust")
	fs.StringVar(&in.Scope, "scope", "", "sub, one or base")
	fs.IntVar(&in.PageSize, "page-size", 0, "paged search page size")
	fs.StringVar(&in.KeyAttribute, "key-attribute", "", "entryUUID or objectGUID")
	fs.IntVar(&in.GuardMaxDeletes, "guard-deletes", 0, "refuse runs removing more entries than this (0: no limit)")
	fs.IntVar(&in.GuardMaxPercent, "guard-percent", 0, "refuse runs removing more than this % of the entries (0: no limit)")
	if rest, err := cli.Parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return cli.UsageError("unexpected arguments %q", rest)
	}
	if in.Name == "" || in.URL == "" || len(bases) == 0 {
		return cli.UsageError("--name, --url and --base-dn are required")
	}
	in.BaseDNs = bases
	in.Interval = interval
	var defaults Mapping
	switch strings.ToLower(preset) {
	case "", "inetorgperson":
		defaults = DefaultMapping()
	case "ad", "active-directory":
		p := Presets()[1]
		defaults = p.Mapping
		if in.Filter == "" {
			in.Filter = p.Filter
		}
		if in.KeyAttribute == "" {
			in.KeyAttribute = p.KeyAttribute
		}
	default:
		return cli.UsageError("--preset %q: want inetorgperson or ad", preset)
	}
	in.Mapping = Mapping{}
	for _, m := range maps {
		field, expr, ok := strings.Cut(m, "=")
		if !ok {
			return cli.UsageError("--map %q: want field=expression", m)
		}
		in.Mapping[strings.TrimSpace(field)] = expr
	}
	in.Mapping = in.Mapping.WithDefaults(defaults)
	var err error
	if in.Folders, err = ParseFolderMapping(folders); err != nil {
		return cli.UsageError("%v", err)
	}
	if pwFile != "" {
		b, err := os.ReadFile(pwFile)
		if err != nil {
			return fmt.Errorf("bind password: %w", err)
		}
		in.BindPassword = strings.TrimRight(string(b), "\r\n")
	}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return fmt.Errorf("CA certificate: %w", err)
		}
		in.CACert = string(b)
	}
	var key []byte
	if in.BindPassword != "" {
		if key, err = env.SecretKey(); err != nil {
			return err
		}
	}
	db, err := env.DB(ctx)
	if err != nil {
		return err
	}
	org, err = orgID(ctx, db, org)
	if err != nil {
		return err
	}
	src, err := NewStore(db, env.Now).CreateSource(ctx, org, in, key)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout(), "added LDAP source %s (%s)\n", src.Name, src.ID)
	return nil
}

func runLDAPList(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("ldap list")
	org := fs.String("org", "", "organisation name or ID")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	db, err := env.DB(ctx)
	if err != nil {
		return err
	}
	id, err := orgID(ctx, db, *org)
	if err != nil {
		return err
	}
	st := NewStore(db, env.Now)
	srcs, err := st.Sources(ctx, id)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.Stdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tURL\tBASE DNS\tFOLDERS\tINTERVAL\tLAST RUN")
	for _, s := range srcs {
		last := "never"
		if runs, err := st.Runs(ctx, id, s.ID, 1); err == nil && len(runs) > 0 {
			r := runs[0]
			last = fmt.Sprintf("%s %s +%d ~%d >%d -%d", r.StartedAt.UTC().Format(time.RFC3339), r.Status, r.Added, r.Updated, r.Moved, r.Removed)
		}
		iv := "manual"
		if s.Interval > 0 {
			iv = s.Interval.String()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.URL, strings.Join(s.BaseDNs, "; "), s.Folders, iv, last)
	}
	return w.Flush()
}

func runLDAPSync(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("ldap sync")
	org := fs.String("org", "", "organisation name or ID")
	name := fs.String("source", "", "source name")
	var opts SyncOptions
	fs.BoolVar(&opts.DryRun, "dry-run", false, "compute and print the report, change nothing")
	fs.BoolVar(&opts.Confirm, "confirm", false, "let this run pass the deletion guard")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return cli.UsageError("--source is required")
	}
	db, err := env.DB(ctx)
	if err != nil {
		return err
	}
	id, err := orgID(ctx, db, *org)
	if err != nil {
		return err
	}
	st := NewStore(db, env.Now)
	src, err := st.SourceByName(ctx, id, *name)
	if err != nil {
		return err
	}
	var key []byte
	if src.HasPassword {
		if key, err = env.SecretKey(); err != nil {
			return err
		}
	}
	rep, runErr := NewSyncer(st, key, env.Logger()).Run(ctx, id, src.ID, opts)
	if rep.SourceID != "" {
		enc := json.NewEncoder(env.Stdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	if runErr != nil {
		if errors.Is(runErr, ErrGuarded) {
			return fmt.Errorf("%w (run again with --confirm to apply it)", runErr)
		}
		return runErr
	}
	return nil
}
