// Package pgtest gives each test a fresh PostgreSQL database with every
// migration applied, on real PostgreSQL.
//
// Each test package process gets one private cluster (package pglocal, with
// durability off for speed), started on first use in a 0755 directory under
// os.TempDir() and stopped and removed by Main; a package using pgtest must
// therefore have
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// When BIFROST_TEST_DATABASE_URL is set, that server is used instead: it is
// an admin URL (a role that may create and drop databases) and pgtest creates
// and drops its databases there.
//
// The migrations run once per process into a template database
// (bifrost_template_<pid>); each test's database is a copy of it (CREATE
// DATABASE ... TEMPLATE), dropped with WITH (FORCE) when the test ends.
//
// When PostgreSQL is missing, tests using pgtest are skipped, or fail when
// CI=true.
//
// This package imports migrations and migrations/pglocal and nothing else of
// the module; only tests may import it.
package pgtest
