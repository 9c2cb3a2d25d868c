package localstack

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// DefaultRegion is the region of AWSConfig when AWS_REGION is not set.
const DefaultRegion = "us-east-1"

// AWSConfig returns an aws-sdk-go-v2 configuration that points every client
// (SQS, EventBridge, ...) at endpoint, with test credentials and the region
// of AWS_REGION (default us-east-1). It is built from scratch, not loaded:
// no shared config file, profile or AWS_ENDPOINT_URL_* variable of a
// developer's AWS setup can leak into tests.
func AWSConfig(endpoint string) aws.Config {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = DefaultRegion
	}
	return aws.Config{
		Region:       region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("test", "test", "")),
		BaseEndpoint: aws.String(endpoint),
	}
}

// AWSConfig returns the aws-sdk-go-v2 configuration of the instance; see
// the function AWSConfig.
func (i *Instance) AWSConfig() aws.Config {
	return AWSConfig(i.Endpoint)
}
