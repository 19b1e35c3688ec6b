package phonebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bifrost-video/bifrost/internal/cli"
)

// Links are the deployment's addresses that phonebook URLs and LDAP settings
// are made of (from cmd/bifrost's configuration).
type Links struct {
	// BaseURL is the HTTP(S) base URL endpoints reach Bifrost at.
	BaseURL string
	// LDAPAddr is the host:port of the phonebook LDAP server endpoints use;
	// LDAPBindDN and LDAPBaseDN are what they are configured with (the
	// password is the token).
	LDAPAddr, LDAPBindDN, LDAPBaseDN string
}

// TokenLinks is everything an installer types into an endpoint for one
// token; `bifrost phonebook create|urls --json` print it.
type TokenLinks struct {
	Token              string   `json:"token"`
	TMSURL             string   `json:"tms_url"`
	YealinkURL         string   `json:"yealink_url"`
	YealinkSearchURL   string   `json:"yealink_search_url"`
	CiscoIPPhoneURL    string   `json:"cisco_ipphone_url"`
	LDAP               LDAPLink `json:"ldap"`
	FolderPath         string   `json:"folder_path,omitempty"`
	TokenID            string   `json:"token_id,omitempty"`
	OrganisationID     string   `json:"organisation_id,omitempty"`
	OrganisationName   string   `json:"organisation_name,omitempty"`
	TokenShownOnceNote string   `json:"note,omitempty"`
}

// LDAPLink is the LDAP part of TokenLinks.
type LDAPLink struct {
	Addr     string `json:"addr"`
	BindDN   string `json:"bind_dn"`
	Password string `json:"password"`
	BaseDN   string `json:"base_dn"`
}

// placeholderToken stands for the token in URLs printed without it.
const placeholderToken = "{token}"

// For returns the links of a token (secret may be empty: the URLs then
// carry placeholderToken).
func (l Links) For(secret string) TokenLinks {
	tok := secret
	if tok == "" {
		tok = placeholderToken
	}
	base := strings.TrimRight(l.BaseURL, "/") + "/pb/" + tok
	return TokenLinks{
		Token:            secret,
		TMSURL:           base + TMSPath,
		YealinkURL:       base + YealinkBookPath,
		YealinkSearchURL: base + YealinkDirPath + "?q=#SEARCH",
		CiscoIPPhoneURL:  base + CiscoDirPath,
		LDAP:             LDAPLink{Addr: l.LDAPAddr, BindDN: l.LDAPBindDN, Password: secret, BaseDN: l.LDAPBaseDN},
	}
}

// Commands returns the subcommands this package contributes to the bifrost
// binary: `bifrost phonebook create|urls|list|revoke`. links gives the
// deployment's addresses for a command's environment.
func Commands(links func(cli.Env) Links) []*cli.Command {
	c := &commands{links: links}
	return []*cli.Command{{
		Name:    "phonebook",
		Summary: "phonebook tokens: the URLs and LDAP settings endpoints read the directory with",
		Sub: []*cli.Command{
			{Name: "create", Summary: "create a phonebook token and print its URLs (the token is shown only this once)",
				Usage: "--org ORG [--name NAME] [--folder PATH] [--json]", Run: c.create},
			{Name: "urls", Summary: "print the phonebook URLs and LDAP settings (of --token, or with a placeholder)",
				Usage: "--org ORG [--token TOKEN] [--json]", Run: c.urls},
			{Name: "list", Summary: "list an organisation's phonebook tokens", Usage: "--org ORG [--json]", Run: c.list},
			{Name: "revoke", Summary: "revoke a phonebook token: its URLs answer 404 from then on (within 5 s on a running server)", Usage: "--org ORG --id ID", Run: c.revoke},
		},
	}}
}

type commands struct{ links func(cli.Env) Links }

// open returns the token store and the organisation of --org.
func open(ctx context.Context, env cli.Env, org string) (*Tokens, string, string, error) {
	if org == "" {
		return nil, "", "", cli.UsageError("--org is required")
	}
	db, err := env.DB(ctx)
	if err != nil {
		return nil, "", "", err
	}
	ts := NewTokens(db, env.Now)
	id, name, err := ts.Organisation(ctx, org)
	if err != nil {
		return nil, "", "", fmt.Errorf("organisation %q: %w", org, err)
	}
	return ts, id, name, nil
}

func noArgs(rest []string, err error) error {
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.UsageError("unexpected arguments %q", rest)
	}
	return nil
}

func (c *commands) create(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("phonebook create")
	org := fs.String("org", "", "organisation name or ID")
	name := fs.String("name", "", "token name, shown as the phonebook title (default: the organisation's name)")
	folder := fs.String("folder", "", "limit the phonebook to this folder subtree (e.g. People/Oslo)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := noArgs(cli.Parse(fs, args)); err != nil {
		return err
	}
	ts, orgID, orgName, err := open(ctx, env, *org)
	if err != nil {
		return err
	}
	t, secret, err := ts.Create(ctx, orgID, TokenInput{Name: *name, FolderPath: *folder}, "")
	if err != nil {
		return err
	}
	l := c.links(env).For(secret)
	l.FolderPath, l.TokenID, l.OrganisationID, l.OrganisationName = t.FolderPath, t.ID, orgID, orgName
	if *asJSON {
		return printJSON(env.Stdout(), l)
	}
	fmt.Fprintf(env.Stdout(), "Created phonebook token %q (%s) for %s. The token is shown only this once.\n\n", t.Name, t.ID, orgName)
	return printLinks(env.Stdout(), l)
}

func (c *commands) urls(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("phonebook urls")
	org := fs.String("org", "", "organisation name or ID")
	token := fs.String("token", "", "the token (as printed by create); without it the URLs carry "+placeholderToken)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := noArgs(cli.Parse(fs, args)); err != nil {
		return err
	}
	ts, orgID, orgName, err := open(ctx, env, *org)
	if err != nil {
		return err
	}
	l := c.links(env).For(*token)
	l.OrganisationID, l.OrganisationName = orgID, orgName
	if *token != "" {
		t, err := ts.Resolve(ctx, *token)
		if err != nil || t.OrganisationID != orgID {
			return fmt.Errorf("phonebook: no live token of %s matches --token", orgName)
		}
		l.FolderPath, l.TokenID = t.FolderPath, t.ID
	} else {
		l.TokenShownOnceNote = "tokens are stored hashed: put the token printed by `bifrost phonebook create` in place of " + placeholderToken
	}
	if *asJSON {
		return printJSON(env.Stdout(), l)
	}
	return printLinks(env.Stdout(), l)
}

func (c *commands) list(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("phonebook list")
	org := fs.String("org", "", "organisation name or ID")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := noArgs(cli.Parse(fs, args)); err != nil {
		return err
	}
	ts, orgID, _, err := open(ctx, env, *org)
	if err != nil {
		return err
	}
	toks, err := ts.List(ctx, orgID)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout(), toks)
	}
	w := tabwriter.NewWriter(env.Stdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tFOLDER\tPREFIX\tCREATED\tLAST USED\tSTATE")
	when := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, t := range toks {
		state := "active"
		if t.RevokedAt != nil {
			state = "revoked " + when(t.RevokedAt)
		}
		folder := t.FolderPath
		if folder == "" {
			folder = "(all)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\n", t.ID, t.Name, folder, t.Prefix, when(&t.CreatedAt), when(t.LastUsedAt), state)
	}
	return w.Flush()
}

func (c *commands) revoke(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("phonebook revoke")
	org := fs.String("org", "", "organisation name or ID")
	id := fs.String("id", "", "token ID (see list)")
	if err := noArgs(cli.Parse(fs, args)); err != nil {
		return err
	}
	if *id == "" {
		return cli.UsageError("--id is required")
	}
	ts, orgID, _, err := open(ctx, env, *org)
	if err != nil {
		return err
	}
	if err := ts.Revoke(ctx, orgID, *id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("phonebook: no token %s in this organisation", *id)
		}
		return err
	}
	fmt.Fprintf(env.Stdout(), "revoked phonebook token %s\n", *id)
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printLinks(w io.Writer, l TokenLinks) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if l.FolderPath != "" {
		fmt.Fprintf(tw, "Folder:\t%s\n", l.FolderPath)
	}
	fmt.Fprintf(tw, "Cisco (TMS phonebook server URL):\t%s\n", l.TMSURL)
	fmt.Fprintf(tw, "Yealink remote phonebook:\t%s\n", l.YealinkURL)
	fmt.Fprintf(tw, "Yealink search:\t%s\n", l.YealinkSearchURL)
	fmt.Fprintf(tw, "Cisco IP phone directory:\t%s\n", l.CiscoIPPhoneURL)
	pw := l.LDAP.Password
	if pw == "" {
		pw = placeholderToken
	}
	fmt.Fprintf(tw, "LDAP (Poly, Lifesize):\tserver %s, bind DN %s, password %s, base DN %s\n", l.LDAP.Addr, l.LDAP.BindDN, pw, l.LDAP.BaseDN)
	if l.TokenShownOnceNote != "" {
		fmt.Fprintf(tw, "\nNote:\t%s\n", l.TokenShownOnceNote)
	}
	return tw.Flush()
}
