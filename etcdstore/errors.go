package etcdstore

import (
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/baldur-go/baldur"
)

// wrapErr turns an etcd error into the Store's error for operation op on the
// kind/id, mapping the limits etcd enforces onto the project's sentinels:
//
//   - "request is too large" (the server's --max-request-bytes, 1.5 MiB by
//     default), "too many operations in txn request" (--max-txn-ops, 128), and
//     a gRPC message over the client's or server's size limit (codes.
//     ResourceExhausted without an etcd error in it) -> baldur.ErrTooLarge;
//   - "mvcc: database space exceeded" (the NOSPACE alarm) ->
//     baldur.ErrQuotaExceeded.
//
// Classification is by errors.Is on rpctypes' values and by gRPC code, never
// by message text. size is the number of bytes the request carried (0 when
// not a write). Everything else, including timeouts and a lost leader, is
// returned wrapped as it is: the outcome of the write is unknown.
func wrapErr(err error, op, kind, id string, size int) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, rpctypes.ErrNoSpace):
		return fmt.Errorf("%w: etcdstore: %s %s %q (%d bytes): etcd is out of space: %w", baldur.ErrQuotaExceeded, op, kind, id, size, err)
	case errors.Is(err, rpctypes.ErrRequestTooLarge), errors.Is(err, rpctypes.ErrTooManyOps), isGRPCTooLarge(err):
		return fmt.Errorf("%w: etcdstore: %s %s %q (%d bytes): %w", baldur.ErrTooLarge, op, kind, id, size, err)
	}
	return fmt.Errorf("etcdstore: %s %s %q: %w", op, kind, id, err)
}

// isGRPCTooLarge reports a gRPC status ResourceExhausted that etcd's client
// did not turn into one of its own errors: the message exceeded a gRPC size
// limit (the client's MaxCallSendMsgSize, 2 MiB by default, or the server's
// receive limit, --max-request-bytes plus 512 KiB).
func isGRPCTooLarge(err error) bool {
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return false
	}
	return se.GRPCStatus().Code() == codes.ResourceExhausted
}
