package awscloud_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/async/awscloud"
	_ "github.com/coworks-go/cws/events/dynamostore" // CWS_IDEMPOTENCY_TABLE's store
	"github.com/coworks-go/cws/internal/motoserver"
	"github.com/coworks-go/cws/runtime"
)

// ledger is a service whose entry has an effect outside the process: the
// count of its runs.
type ledger struct{ runs *atomic.Int32 }

func (l *ledger) PostEntries(context.Context) (int32, error) { return l.runs.Add(1), nil }

// TestIdempotencyTableAcrossProcesses: with CWS_IDEMPOTENCY_TABLE the doors
// keep what they handled in that DynamoDB table, so that an SQS message
// delivered again to another process (a new Lambda container after the
// first died, or a second consumer) runs nothing: one effect for two
// deliveries, where one in-memory store per process runs it twice.
func TestIdempotencyTableAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	srv, err := motoserver.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	_, err = client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("idempotency"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")

	body := `{"specversion":"1.0","id":"e1","source":"cws/test","type":"cws.invoke","subject":"POST /entries","datacontenttype":"application/json","data":{}}`
	msgs := []awsevents.SQSMessage{{MessageId: "m1", Body: body, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:ledger", Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}

	for _, tt := range []struct {
		table string
		want  int32
	}{{"", 2}, {"idempotency", 1}} {
		t.Run(fmt.Sprintf("table=%q", tt.table), func(t *testing.T) {
			t.Setenv(async.EnvIdempotencyTable, tt.table)
			runs := &atomic.Int32{}
			for process := range 2 {
				doors := awscloud.Doors() // a new process: a new door, a new memory
				app, err := runtime.New(&ledger{runs: runs}, doors, runtime.WithLogger(slog.New(slog.DiscardHandler)))
				if err != nil {
					t.Fatal(err)
				}
				h, err := doors.Lambda(ctx, app)
				if err != nil {
					t.Fatal(err)
				}
				if resp := h.HandleSQS(ctx, msgs); len(resp.BatchItemFailures) != 0 {
					t.Fatalf("process %d failed %v", process, resp.BatchItemFailures)
				}
			}
			if n := runs.Load(); n != tt.want {
				t.Errorf("two deliveries to two processes ran the entry %d times, want %d", n, tt.want)
			}
		})
	}
}
