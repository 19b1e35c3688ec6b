package webadmin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/bifrost-video/bifrost/internal/cli"
)

// EnvAdminPassword names the environment variable `bifrost admin create` takes
// the password from; without it a password is generated and printed once.
const EnvAdminPassword = "BIFROST_ADMIN_PASSWORD"

// Commands returns the subcommands this package contributes to the bifrost
// binary: org create|list|set, admin create, token create, room create|list. They
// talk to the database directly and are audited as the actor the binary puts in
// the context (cli).
func Commands() []*cli.Command {
	return []*cli.Command{
		{Name: "org", Summary: "organisations", Sub: []*cli.Command{
			{Name: "create", Usage: "NAME", Summary: "create an organisation", Run: cmdOrgCreate},
			{Name: "list", Summary: "list the organisations", Run: cmdOrgList},
			{Name: "set", Usage: "--org NAME --time-zone ZONE", Summary: "change an organisation's settings", Run: cmdOrgSet},
		}},
		{Name: "admin", Summary: "admin accounts", Sub: []*cli.Command{
			{Name: "create", Usage: "--org NAME --email E [--name N] [--role admin|viewer|system]",
				Summary: "create an admin account; the password comes from " + EnvAdminPassword + " or is generated and printed once", Run: cmdAdminCreate},
		}},
		{Name: "token", Summary: "API tokens", Sub: []*cli.Command{
			{Name: "create", Usage: "--org NAME --name N [--role admin|viewer]",
				Summary: "create an API token and print it (alone) on stdout", Run: cmdTokenCreate},
		}},
		{Name: "room", Summary: "virtual meeting rooms", Sub: []*cli.Command{
			{Name: "create", Usage: `--org NAME --alias 1234 --name "Board room" [--name-alias A] [--host-pin P] [--guest-pin P] [--max N] [--owner O]`,
				Summary: "create a room", Run: cmdRoomCreate},
			{Name: "list", Usage: "--org NAME", Summary: "list an organisation's rooms", Run: cmdRoomList},
		}},
	}
}

// cliStore opens the store on the command's database.
func cliStore(ctx context.Context, env cli.Env) (*Store, error) {
	db, err := env.DB(ctx)
	if err != nil {
		return nil, err
	}
	return NewStore(db, env.Now), nil
}

// cliStoreOrg opens the store and finds the organisation named by --org.
func cliStoreOrg(ctx context.Context, env cli.Env, name string) (*Store, Organisation, error) {
	st, err := cliStore(ctx, env)
	if err != nil {
		return nil, Organisation{}, err
	}
	o, err := cliOrg(ctx, st, name)
	return st, o, err
}

// cliOrg finds the organisation named by --org.
func cliOrg(ctx context.Context, st *Store, name string) (Organisation, error) {
	if name == "" {
		return Organisation{}, cli.UsageError("--org is required")
	}
	o, err := st.OrganisationByName(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return o, fmt.Errorf("no organisation named %q (bifrost org list shows them)", name)
	}
	return o, err
}

// cliError turns a validation or conflict error into a plain sentence.
func cliError(err error) error {
	var v *ValidationError
	var c *ConflictError
	switch {
	case errors.As(err, &v):
		return fmt.Errorf("%s %s", v.Field, v.Message)
	case errors.As(err, &c):
		return fmt.Errorf("%s: %s", c.Field, c.Message)
	}
	return err
}

func cmdOrgCreate(ctx context.Context, env cli.Env, args []string) error {
	rest, err := cli.Parse(cli.FlagSet("org create"), args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return cli.UsageError("want one organisation NAME")
	}
	st, err := cliStore(ctx, env)
	if err != nil {
		return err
	}
	o, err := st.CreateOrganisation(ctx, rest[0])
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(env.Stdout(), "created organisation %q (%s)\n", o.Name, o.ID)
	return nil
}

func cmdOrgList(ctx context.Context, env cli.Env, args []string) error {
	if rest, err := cli.Parse(cli.FlagSet("org list"), args); err != nil {
		return err
	} else if len(rest) > 0 {
		return cli.UsageError("org list takes no arguments")
	}
	st, err := cliStore(ctx, env)
	if err != nil {
		return err
	}
	orgs, err := st.ListOrganisations(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROOMS\tACCOUNTS\tTIME ZONE\tID")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", o.Name, o.Rooms, o.Users, o.TimeZone, o.ID)
	}
	return tw.Flush()
}

func cmdOrgSet(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("org set")
	org := fs.String("org", "", "organisation name")
	tz := fs.String("time-zone", "", "IANA time zone of the organisation's days and times, e.g. Europe/Oslo")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if *tz == "" {
		return cli.UsageError("nothing to set: give --time-zone")
	}
	st, o, err := cliStoreOrg(ctx, env, *org)
	if err != nil {
		return err
	}
	if o, err = st.SetTimeZone(ctx, o.ID, *tz); err != nil {
		return cliError(err)
	}
	fmt.Fprintf(env.Stdout(), "organisation %q: time zone %s\n", o.Name, o.TimeZone)
	return nil
}

func noArgs(fs *flag.FlagSet, args []string) error {
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.UsageError("unexpected argument %q", rest[0])
	}
	return nil
}

func cmdAdminCreate(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("admin create")
	org := fs.String("org", "", "organisation name")
	email := fs.String("email", "", "e-mail address (the sign-in name)")
	name := fs.String("name", "", "the person's name")
	role := fs.String("role", "admin", "admin, viewer or system")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return cli.UsageError("--email is required")
	}
	st, o, err := cliStoreOrg(ctx, env, *org)
	if err != nil {
		return err
	}
	password, generated := os.Getenv(EnvAdminPassword), false
	if password == "" {
		password, generated = GeneratePassword(), true
	}
	r := Role(*role)
	u, err := st.CreateUser(ctx, o.ID, UserInput{Email: email, Name: name, Role: &r, Password: &password})
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(env.Stdout(), "created %s %s in %q\n", u.Role, u.Email, o.Name)
	if generated {
		fmt.Fprintf(env.Stdout(), "password: %s\n(shown only this once)\n", password)
	}
	return nil
}

func cmdTokenCreate(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("token create")
	org := fs.String("org", "", "organisation name")
	name := fs.String("name", "", "what the token is for")
	role := fs.String("role", "viewer", "admin or viewer")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	st, o, err := cliStoreOrg(ctx, env, *org)
	if err != nil {
		return err
	}
	_, secret, err := st.CreateToken(ctx, o.ID, TokenInput{Name: *name, Role: Role(*role)}, "")
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintln(env.Stdout(), secret)
	return nil
}

func cmdRoomCreate(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("room create")
	org := fs.String("org", "", "organisation name")
	var in RoomInput
	in.Alias = fs.String("alias", "", "numeric alias, e.g. 1234")
	in.Name = fs.String("name", "", "room name")
	nameAlias := fs.String("name-alias", "", "dialable name, e.g. board.room")
	host := fs.String("host-pin", "", "host PIN, 4 to 10 digits")
	guest := fs.String("guest-pin", "", "guest PIN, 4 to 10 digits")
	owner := fs.String("owner", "", "owner")
	maxp := fs.Int("max", 0, "maximum participants (0: no limit)")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	in.NameAlias, in.HostPIN, in.GuestPIN, in.Owner, in.MaxParticipants = nameAlias, host, guest, owner, maxp
	st, o, err := cliStoreOrg(ctx, env, *org)
	if err != nil {
		return err
	}
	r, err := st.CreateRoom(ctx, o.ID, in)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(env.Stdout(), "created room %q with alias %s (%s)\n", r.Name, r.Alias, r.ID)
	return nil
}

func cmdRoomList(ctx context.Context, env cli.Env, args []string) error {
	fs := cli.FlagSet("room list")
	org := fs.String("org", "", "organisation name")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	st, o, err := cliStoreOrg(ctx, env, *org)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ALIAS\tNAME\tNAME ALIAS\tPINS\tMAX\tOWNER")
	for off := 0; ; off += MaxLimit {
		rooms, total, err := st.ListRooms(ctx, o.ID, "", Page{Limit: MaxLimit, Offset: off})
		if err != nil {
			return err
		}
		for _, r := range rooms {
			pins := "none"
			switch {
			case r.HostPIN != "" && r.GuestPIN != "":
				pins = "host+guest"
			case r.HostPIN != "":
				pins = "host"
			case r.GuestPIN != "":
				pins = "guest"
			}
			maxp := "-"
			if r.MaxParticipants > 0 {
				maxp = strconv.Itoa(r.MaxParticipants)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Alias, r.Name, r.NameAlias, pins, maxp, r.Owner)
		}
		if off+len(rooms) >= total || len(rooms) == 0 {
			break
		}
	}
	return tw.Flush()
}
