module github.com/coworks-go/cws/bench

go 1.26.0

replace github.com/coworks-go/cws => ../

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/awslabs/aws-lambda-go-api-proxy v0.16.2
	github.com/coworks-go/cws v0.0.0-00010101000000-000000000000
	github.com/danielgtaylor/huma/v2 v2.37.2
	github.com/go-chi/chi/v5 v5.5.0
)

require github.com/go-json-experiment/json v1.27.2 // indirect
