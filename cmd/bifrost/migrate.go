package main

import (
	"context"
	"fmt"

	"github.com/bifrost-video/bifrost/internal/cli"
	"github.com/bifrost-video/bifrost/migrations"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:    "migrate",
		Summary: "apply pending database migrations and exit",
		Run: func(ctx context.Context, c cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.UsageError("migrate takes no arguments")
			}
			e := c.(*env)
			db, err := e.open(ctx)
			if err != nil {
				return err
			}
			e.db = db
			applied, err := migrations.Apply(ctx, db)
			if err != nil {
				return err
			}
			current, _, err := migrations.Status(ctx, db)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.Stdout(), "applied %d migration(s); schema is at version %d\n", len(applied), current)
			return err
		},
	}
}
