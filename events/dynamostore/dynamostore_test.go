package dynamostore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/dynamostore"
	"github.com/coworks-go/cws/events/storetest"
	"github.com/coworks-go/cws/internal/motoserver"
)

// client is a DynamoDB client of the moto server TestMain starts.
var client *dynamodb.Client

func TestMain(m *testing.M) {
	srv, err := motoserver.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "dynamostore tests need a DynamoDB-compatible server:", err)
		os.Exit(1)
	}
	client = dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// newTable creates a table as Powertools' idempotency documents it
// (partition key id, TTL on expiration) and returns its name.
func newTable(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("idempotency-%d", time.Now().UnixNano())
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(dynamostore.AttrID), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(dynamostore.AttrID), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(dynamostore.AttrExpiration), Enabled: aws.Bool(true)}})
	if err != nil {
		t.Fatalf("UpdateTimeToLive: %v", err)
	}
	return name
}

// TestConformance runs the suite every events.Store passes on a table of
// the server, shared by its subtests as consumers share it.
func TestConformance(t *testing.T) {
	table := newTable(t)
	storetest.Run(t, func(*testing.T) events.Store { return dynamostore.New(client, table) })
}

// TestTwoConsumersShareTheTable: two stores on one table (two consumers of
// a queue, or a consumer and its replacement after a crash) see each
// other's claims and outcomes.
func TestTwoConsumersShareTheTable(t *testing.T) {
	ctx := context.Background()
	table := newTable(t)
	a, b := dynamostore.New(client, table), dynamostore.New(client, table)
	if ok, _, err := a.Begin(ctx, "k", time.Minute); err != nil || !ok {
		t.Fatalf("a.Begin: %v %v", ok, err)
	}
	if ok, done, err := b.Begin(ctx, "k", time.Minute); err != nil || ok || done != nil {
		t.Fatalf("b.Begin while a holds the claim: %v %+v %v, want in progress", ok, done, err)
	}
	if err := a.Finish(ctx, "k", events.Outcome{Status: 204}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, done, err := b.Begin(ctx, "k", time.Minute); err != nil || ok || done == nil || done.Status != 204 {
		t.Fatalf("b.Begin after a finished: %v %+v %v, want a's outcome", ok, done, err)
	}
}

// TestItemLayout: the items are Powertools' (status, expiration in epoch
// seconds for the table's TTL, in_progress_expiration in milliseconds,
// data), so that a table made for Powertools serves.
func TestItemLayout(t *testing.T) {
	ctx := context.Background()
	table := newTable(t)
	s := dynamostore.New(client, table)
	start := time.Now()
	if ok, _, err := s.Begin(ctx, "k", time.Minute); err != nil || !ok {
		t.Fatalf("Begin: %v %v", ok, err)
	}
	item := getItem(t, table, "k")
	if st := item[dynamostore.AttrStatus].(*types.AttributeValueMemberS).Value; st != dynamostore.StatusInProgress {
		t.Errorf("status %q while in progress", st)
	}
	if ms := num(t, item, dynamostore.AttrInProgressExpiration); ms < start.Add(time.Minute).UnixMilli() || ms > time.Now().Add(time.Minute).UnixMilli()+1 {
		t.Errorf("in_progress_expiration %d, want the lease's end in ms (about %d)", ms, start.Add(time.Minute).UnixMilli())
	}
	if err := s.Finish(ctx, "k", events.Outcome{Status: 200, Body: []byte("ok")}, time.Hour); err != nil {
		t.Fatal(err)
	}
	item = getItem(t, table, "k")
	if st := item[dynamostore.AttrStatus].(*types.AttributeValueMemberS).Value; st != dynamostore.StatusCompleted {
		t.Errorf("status %q once finished", st)
	}
	if sec := num(t, item, dynamostore.AttrExpiration); sec < start.Add(time.Hour).Unix() || sec > time.Now().Add(time.Hour).Unix()+1 {
		t.Errorf("expiration %d, want the window's end in epoch seconds (about %d)", sec, start.Add(time.Hour).Unix())
	}
	if _, ok := item[dynamostore.AttrData].(*types.AttributeValueMemberS); !ok {
		t.Errorf("no data attribute: %v", item)
	}
}

func getItem(t *testing.T, table, key string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{dynamostore.AttrID: &types.AttributeValueMemberS{Value: key}}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		t.Fatalf("GetItem %q: %v %v", key, out, err)
	}
	return out.Item
}

func num(t *testing.T, item map[string]types.AttributeValue, name string) int64 {
	t.Helper()
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("no number %s in %v", name, item)
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMissingTable: a store whose table does not exist fails to claim (and
// Deduplicate makes the delivery retryable), it does not run unguarded.
func TestMissingTable(t *testing.T) {
	s := dynamostore.New(client, "no-such-table")
	if ok, _, err := s.Begin(context.Background(), "k", time.Minute); err == nil || ok {
		t.Fatalf("Begin on a missing table: %v %v, want an error", ok, err)
	}
}
