// Package msgcodec holds the msgpack decoding loop shared by the record
// packages, which decode field by field instead of by reflection.
package msgcodec

import (
	"errors"

	"github.com/vmihailenco/msgpack/v5"
)

// DecodeMap reads a msgpack map of string keys from dec and calls field
// for each key with dec positioned at its value; field must consume the
// value (dec.Skip for unknown keys).
func DecodeMap(dec *msgpack.Decoder, field func(key string) error) error {
	l, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	if l < 0 {
		return errors.New("record is nil, not a map")
	}
	for i := 0; i < l; i++ {
		k, err := dec.DecodeString()
		if err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
	}
	return nil
}
