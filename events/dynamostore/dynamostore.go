// Package dynamostore is an events.Store in a DynamoDB table, shared by
// every consumer of a queue and kept across their crashes: the durable
// idempotency store, chosen with CWS_IDEMPOTENCY_TABLE
// (async.EnvIdempotencyTable). Only services that import it link it and
// the DynamoDB client; it registers itself (events.RegisterStore, kind
// "dynamo"), so the import may be for that effect alone:
//
//	import _ "github.com/coworks-go/cws/events/dynamostore"
//
// The table is the one Powertools for AWS Lambda's idempotency uses:
// partition key id (a string), an item per key with its status
// (INPROGRESS while a delivery holds the claim, COMPLETED once the outcome
// is recorded), expiration (epoch seconds: the table's TTL attribute),
// in_progress_expiration (epoch milliseconds: the end of the claim's
// lease) and data (the recorded outcome, JSON). A claim is a conditional
// PutItem that succeeds only when no live item holds the key, so that of
// two deliveries at once exactly one runs, whichever consumer they reach.
//
// DynamoDB deletes expired items some time after they expire (up to days),
// so the store never relies on it: an item whose expiration has passed is
// treated as absent, by the claim's condition and when read.
package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/coworks-go/cws/events"
)

// The attributes of an item, as Powertools names them.
const (
	// AttrID is the table's partition key (a string): the idempotency key.
	AttrID = "id"
	// AttrStatus is StatusInProgress or StatusCompleted.
	AttrStatus = "status"
	// AttrExpiration is when the item expires, in epoch seconds: the
	// table's TTL attribute.
	AttrExpiration = "expiration"
	// AttrInProgressExpiration is when an in-progress claim's lease ends,
	// in epoch milliseconds.
	AttrInProgressExpiration = "in_progress_expiration"
	// AttrData is the recorded outcome of a completed run (JSON).
	AttrData = "data"
)

// The statuses of an item.
const (
	StatusInProgress = "INPROGRESS"
	StatusCompleted  = "COMPLETED"
)

// API is what the store calls of DynamoDB; *dynamodb.Client implements it.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Store is an events.Store in the DynamoDB table Table.
type Store struct {
	client API
	table  string
	now    func() time.Time
}

var _ events.Store = (*Store)(nil)

func init() {
	events.RegisterStore("dynamo", func(table string) (events.Store, error) {
		return New(&defaultClient{}, table), nil
	})
}

// defaultClient is a DynamoDB client of the environment's AWS
// configuration (the usual chain; AWS_ENDPOINT_URL), made on first use.
type defaultClient struct {
	mu     sync.Mutex
	client *dynamodb.Client
}

func (d *defaultClient) get(ctx context.Context) (*dynamodb.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.client == nil {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS configuration: %w", err)
		}
		d.client = dynamodb.NewFromConfig(cfg)
	}
	return d.client, nil
}

func (d *defaultClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	return c.PutItem(ctx, in, opts...)
}

func (d *defaultClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	return c.GetItem(ctx, in, opts...)
}

func (d *defaultClient) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	return c.DeleteItem(ctx, in, opts...)
}

// New returns the store of table, through client.
func New(client API, table string) *Store {
	return &Store{client: client, table: table, now: time.Now}
}

// Table returns the name of the store's table.
func (s *Store) Table() string { return s.table }

// claimCondition lets a claim take a key that no item holds, or whose item
// expired, or whose in-progress claim's lease is over (its consumer died).
const claimCondition = "attribute_not_exists(#id) OR #expiration <= :now OR (#status = :inprogress AND #in_progress_expiration <= :now_ms)"

// maxClaimTries bounds Begin's tries when the item that refused its claim
// is gone (or expired) by the time it reads it.
const maxClaimTries = 3

// Begin implements events.Store: a conditional PutItem of an in-progress
// item whose lease ends after lease. When the condition fails, the item
// that holds the key tells why: a completed run (its outcome) or a live
// claim.
func (s *Store) Begin(ctx context.Context, key string, lease time.Duration) (bool, *events.Outcome, error) {
	for range maxClaimTries {
		now := s.now()
		leaseEnd := now.Add(lease)
		_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table),
			Item: map[string]types.AttributeValue{
				AttrID:                   &types.AttributeValueMemberS{Value: key},
				AttrStatus:               &types.AttributeValueMemberS{Value: StatusInProgress},
				AttrExpiration:           epochSeconds(leaseEnd),
				AttrInProgressExpiration: epochMillis(leaseEnd),
			},
			ConditionExpression: aws.String(claimCondition),
			ExpressionAttributeNames: map[string]string{
				"#id": AttrID, "#expiration": AttrExpiration, "#status": AttrStatus,
				"#in_progress_expiration": AttrInProgressExpiration,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":now":        number(now.Unix()),
				":now_ms":     number(now.UnixMilli()),
				":inprogress": &types.AttributeValueMemberS{Value: StatusInProgress},
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return true, nil, nil
		}
		var failed *types.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return false, nil, fmt.Errorf("dynamodb: claiming %q in %s: %w", key, s.table, err)
		}
		item := failed.Item
		if item == nil { // a server that does not send the item back
			if item, err = s.get(ctx, key); err != nil {
				return false, nil, err
			}
		}
		r, err := decode(item)
		if err != nil {
			return false, nil, fmt.Errorf("dynamodb: item %q in %s: %w", key, s.table, err)
		}
		switch now := s.now(); {
		case r == nil || r.expired(now):
			continue // gone meanwhile: claim again
		case r.status == StatusCompleted:
			return false, r.outcome, nil
		case r.leaseOver(now):
			continue // the lease ended meanwhile: claim again
		default:
			return false, nil, nil
		}
	}
	return false, nil, fmt.Errorf("dynamodb: claiming %q in %s: the item changed %d times while claiming", key, s.table, maxClaimTries)
}

// Finish implements events.Store: the completed item, with the outcome,
// expiring after window.
func (s *Store) Finish(ctx context.Context, key string, o events.Outcome, window time.Duration) error {
	data, err := json.Marshal(outcomeJSON(o))
	if err != nil {
		return fmt.Errorf("dynamodb: encoding the outcome of %q: %w", key, err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			AttrID:         &types.AttributeValueMemberS{Value: key},
			AttrStatus:     &types.AttributeValueMemberS{Value: StatusCompleted},
			AttrExpiration: epochSeconds(s.now().Add(window)),
			AttrData:       &types.AttributeValueMemberS{Value: string(data)},
		},
	})
	if err != nil {
		return fmt.Errorf("dynamodb: recording the outcome of %q in %s: %w", key, s.table, err)
	}
	return nil
}

// Abandon implements events.Store: it deletes the item while it is in
// progress (a completed run is not forgotten).
func (s *Store) Abandon(ctx context.Context, key string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{AttrID: &types.AttributeValueMemberS{Value: key}},
		ConditionExpression:       aws.String("#status = :inprogress"),
		ExpressionAttributeNames:  map[string]string{"#status": AttrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":inprogress": &types.AttributeValueMemberS{Value: StatusInProgress}},
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("dynamodb: abandoning %q in %s: %w", key, s.table, err)
	}
	return nil
}

// get reads the item of key, strongly consistent (nil: none).
func (s *Store) get(ctx context.Context, key string) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{AttrID: &types.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamodb: reading %q in %s: %w", key, s.table, err)
	}
	return out.Item, nil
}

// record is a decoded item.
type record struct {
	status            string
	expiration        int64 // epoch seconds
	inProgressExpires int64 // epoch milliseconds
	outcome           *events.Outcome
}

// expired tells whether the item is past its expiration, as the claim's
// condition does.
func (r *record) expired(now time.Time) bool { return r.expiration <= now.Unix() }

// leaseOver tells whether an in-progress claim's lease ended.
func (r *record) leaseOver(now time.Time) bool {
	return r.status == StatusInProgress && r.inProgressExpires <= now.UnixMilli()
}

// decode reads an item (nil: none).
func decode(item map[string]types.AttributeValue) (*record, error) {
	if len(item) == 0 {
		return nil, nil
	}
	var r record
	if v, ok := item[AttrStatus].(*types.AttributeValueMemberS); ok {
		r.status = v.Value
	}
	var err error
	if r.expiration, err = numberOf(item, AttrExpiration); err != nil {
		return nil, err
	}
	switch r.status {
	case StatusInProgress:
		if r.inProgressExpires, err = numberOf(item, AttrInProgressExpiration); err != nil {
			return nil, err
		}
	case StatusCompleted:
		v, ok := item[AttrData].(*types.AttributeValueMemberS)
		if !ok {
			return nil, fmt.Errorf("a completed item without %s", AttrData)
		}
		var o storedOutcome
		if err := json.Unmarshal([]byte(v.Value), &o); err != nil {
			return nil, fmt.Errorf("%s: %w", AttrData, err)
		}
		r.outcome = &events.Outcome{Status: o.Status, ContentType: o.ContentType, Body: o.Body, Binary: o.Binary, Refused: o.Refused}
	default:
		return nil, fmt.Errorf("status %q", r.status)
	}
	return &r, nil
}

// storedOutcome is an events.Outcome in the data attribute.
type storedOutcome struct {
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Body        []byte `json:"body,omitempty"`
	Binary      bool   `json:"binary,omitempty"`
	Refused     string `json:"refused,omitempty"`
}

func outcomeJSON(o events.Outcome) storedOutcome {
	return storedOutcome{Status: o.Status, ContentType: o.ContentType, Body: o.Body, Binary: o.Binary, Refused: o.Refused}
}

func numberOf(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("no number %s", name)
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// epochSeconds is t in epoch seconds, rounded up: an item is kept at least
// until t.
func epochSeconds(t time.Time) types.AttributeValue {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return number(s)
}

func epochMillis(t time.Time) types.AttributeValue {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) > 0 {
		ms++
	}
	return number(ms)
}
