package webadmin

import "github.com/bifrost-video/bifrost/internal/cli"

// Commands returns the subcommands this package contributes to the bifrost binary.
func Commands() []*cli.Command {
	return nil
}
