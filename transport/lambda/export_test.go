package lambda

// ShapeOf names the shape the Lambda door sees in payload, for the tests of
// package lambda_test.
func ShapeOf(payload []byte) (string, error) {
	e, err := decodeEvent(payload)
	if err != nil {
		return "", err
	}
	return shapeOf(e).String(), nil
}
