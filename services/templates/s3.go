package templates

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3API is what the S3 source needs of an S3 client.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// S3 is the Source of the templates under an S3 URI, s3://bucket/prefix:
// a template's version is its ETag.
func S3(client S3API, uri string) (Source, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("%q is not an S3 URI (s3://bucket/prefix)", uri)
	}
	return &s3Source{client: client, bucket: u.Host, prefix: strings.Trim(u.Path, "/")}, nil
}

// S3FromEnv is S3 with a client of the AWS configuration of the
// environment (AWS_ENDPOINT_URL for LocalStack, addressed by path).
func S3FromEnv(ctx context.Context, uri string) (Source, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return S3(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil }), uri)
}

type s3Source struct {
	client         S3API
	bucket, prefix string
}

func (s *s3Source) key(name string) string {
	return strings.TrimPrefix(path.Join(s.prefix, path.Clean("/"+name)), "/")
}

func (s *s3Source) Read(ctx context.Context, name string) ([]byte, string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(name))})
	if err != nil {
		return nil, "", s.wrap(name, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, aws.ToString(out.ETag), err
}

func (s *s3Source) Version(ctx context.Context, name string) (string, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(name))})
	if err != nil {
		return "", s.wrap(name, err)
	}
	return aws.ToString(out.ETag), nil
}

// wrap makes a missing object fs.ErrNotExist.
func (s *s3Source) wrap(name string, err error) error {
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	var ae smithy.APIError
	if errors.As(err, &nsk) || errors.As(err, &nf) || (errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey")) {
		return fmt.Errorf("s3://%s/%s: %w", s.bucket, s.key(name), fs.ErrNotExist)
	}
	return fmt.Errorf("s3://%s/%s: %w", s.bucket, s.key(name), err)
}
