package main

import "github.com/bifrost-video/bifrost/webadmin"

// pageRoutes are the directory's admin pages.
func (a *directoryAPI) pageRoutes() []webadmin.Route { return nil }

// pageNav is the directory's entry in the admin navigation.
func (a *directoryAPI) pageNav() []webadmin.NavItem { return nil }
