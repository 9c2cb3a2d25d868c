package testutil

// The tokens the tests share. Each is listed in Secrets.
const (
	// Token is the TOKEN the unit tests give their services (and the
	// Authorization their clients send).
	Token = "unit-token-3b9c"
	// WrongToken is the token the tests send to be refused: what a client
	// sends by mistake must not leak either.
	WrongToken = "wrong-secret-7f3a"
	// DevToken is the TOKEN of the examples' .env (examples/*/.env) and of
	// their sample events (examples/crud/events): the token `cws run`
	// gives the examples in the end-to-end tests.
	DevToken = "dev-token"
)

// Secrets are the secrets the tests give services — tokens, passwords, API
// keys, the wrong tokens they send to be refused — each distinctive enough
// that finding it in output means it leaked: `make test` scans the suite's
// output for each (internal/scansecrets). Each is at least 8 characters and
// not a plain word. A test that gives a service a new secret lists it here
// (TestSecretsListed fails on a token literal of a test that is not).
var Secrets = []string{
	Token,
	WrongToken,
	DevToken,
	"test-token",             // runtime and command: the TOKEN of their Apps
	"example-token-51c7",     // runtime's Examples
	"friend-token-2c8e",      // runtime: the token a custom authorizer accepts ("Bearer friend-token-2c8e")
	"failing-token-9e4b",     // runtime: the token on which a custom authorizer fails
	"golden-token",           // transport/lambda: the golden events' service
	"lambda-token",           // cws_test.go: the service under the Lambda runtime API
	"local-token",            // cws_test.go: the service served locally
	"dotenv-base-token-1a7c", // cmd/cws/internal/cli: TOKEN of a .env
	"dotenv-prod-token-5f2e", // cmd/cws/internal/cli: TOKEN of a .env.prod
	"mail-password-6d4a",     // services/mail: the SMTP password mailpit requires
	"api-key-1",              // services/odoo/odootest: the fake Odoo's API key
	"web-password",           // services/odoo/odootest: the fake Odoo's web password
	"it-token",               // integration: services run by the tests
	"fn-token",               // integration: functions on localstack's Lambda
	"api-token",              // integration: a function behind localstack's API Gateway
	"stack-token",            // integration: a function of a CloudFormation stack
	"deploy-token",           // integration: the SSM parameter of a deployed service
	"bench-token",            // bench: the benchmarked services
	"cold-token",             // bench: the cold-start services
}
