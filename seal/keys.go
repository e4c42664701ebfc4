package seal

import (
	"context"
	"fmt"

	"github.com/recordvault/recordvault/crypto"
)

// NewKey returns a fresh data key made by the Transit key keyName under keyContext, ready to
// seal with (Destroy it after use), and its wrapped form to store. One keyring call.
func NewKey(ctx context.Context, keys Keyring, keyName string, keyContext []byte) (*crypto.RecordKey, string, error) {
	dk, err := keys.NewDataKey(ctx, keyName, keyContext)
	if err != nil {
		return nil, "", err
	}
	key, err := crypto.NewRecordKey(dk.Plaintext)
	if err != nil {
		clear(dk.Plaintext)
		return nil, "", err
	}
	return key, dk.Wrapped, nil
}

// OpenKeys unwraps data keys, all wrapped by keyName, in one keyring call and returns them in
// order, ready to open with (Destroy each after use). A key that does not unwrap fails them
// all with an error wrapping ErrUnwrap (and ErrKeyVersionRetired when it was wrapped by a
// retired version): every owner of a sealed object answers it the same way.
func OpenKeys(ctx context.Context, keys Keyring, keyName string, wrapped []WrappedKey) ([]*crypto.RecordKey, error) {
	plain, err := keys.UnwrapDataKeys(ctx, keyName, wrapped)
	if err != nil {
		return nil, err
	}
	out := make([]*crypto.RecordKey, 0, len(plain))
	for i, p := range plain {
		k, err := crypto.NewRecordKey(p)
		if err != nil {
			for _, k := range out {
				k.Destroy()
			}
			for _, rest := range plain[i:] {
				clear(rest)
			}
			return nil, fmt.Errorf("%w: %w", ErrUnwrap, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// OpenKey is OpenKeys for one key.
func OpenKey(ctx context.Context, keys Keyring, keyName string, wrapped WrappedKey) (*crypto.RecordKey, error) {
	ks, err := OpenKeys(ctx, keys, keyName, []WrappedKey{wrapped})
	if err != nil {
		return nil, err
	}
	return ks[0], nil
}
