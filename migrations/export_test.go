package migrations

// Exported for the tests in package migrations_test, which cannot be in
// package migrations because they use pgtest, which imports migrations.
var (
	ParseFileName = parseFileName
	Load          = load
	MustLoad      = mustLoad
	ApplyList     = apply
	LockKey       = lockKey
)
