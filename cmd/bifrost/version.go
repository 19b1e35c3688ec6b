package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/bifrost-video/bifrost/internal/cli"
)

// buildVersion is set by the linker (-X main.buildVersion=…) in release builds.
var buildVersion string

// version is the release version, or the module version or VCS revision of a
// development build.
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:    "version",
		Summary: "print the version",
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			_, err := fmt.Fprintln(env.Stdout(), "bifrost", version())
			return err
		},
	}
}
