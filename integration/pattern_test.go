//go:build integration

package integration

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/smithy-go"
	"github.com/tailscale/hujson"
)

// corpus is the AWS-validated event-pattern cases (JSON5 files: a case per
// file, the name's suffix says what AWS answered).
const corpus = "../events/testdata/eventbridge-patterns"

type patternCase struct {
	Event        json.RawMessage
	EventPattern json.RawMessage
}

func loadCase(t *testing.T, name string) patternCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpus, name+".json5"))
	if err != nil {
		t.Fatal(err)
	}
	std, err := hujson.Standardize(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var c patternCase
	if err := json.Unmarshal(std, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// TestEventPatternLikeAWS asks LocalStack's TestEventPattern about cases of
// every operator family and compares with what AWS answered.
func TestEventPatternLikeAWS(t *testing.T) {
	t.Parallel()
	eb := eventbridge.NewFromConfig(need(t))
	var awsErrors map[string]struct{ Code, Message string }
	b, _ := os.ReadFile(filepath.Join(corpus, "aws-errors.json"))
	if err := json.Unmarshal(b, &awsErrors); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"content_prefix", "content_prefix_NEG", "content_numeric_operatorcasing_EXC",
		"content_anything_but_string_list", "content_anything_but_string_NEG",
		"content_exists", "content_exists_false_NEG", "content_ip_address", "content_ip_address_NEG",
		"content_numeric_and", "content_numeric_and_NEG", "content_wildcard_simplified",
		"complex_or", "complex_or_NEG", "arrays", "arrays_NEG", "arrays_empty_EXC",
		"operator_case_sensitive_EXC", "boolean", "boolean_NEG",
	} {
		t.Run(name, func(t *testing.T) {
			c := loadCase(t, name)
			out, err := eb.TestEventPattern(ctxFor(t, 30*time.Second), &eventbridge.TestEventPatternInput{
				Event: aws.String(string(c.Event)), EventPattern: aws.String(string(c.EventPattern)),
			})
			switch {
			case strings.HasSuffix(name, "_EXC"):
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidEventPatternException" {
					t.Fatalf("want InvalidEventPatternException (%s), got %v", awsErrors[name].Message, err)
				}
			case err != nil:
				t.Fatal(err)
			case out.Result != !strings.HasSuffix(name, "_NEG"):
				t.Errorf("TestEventPattern = %v, AWS answered %v", out.Result, !out.Result)
			}
		})
	}
}
