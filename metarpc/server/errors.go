package server

import "errors"

// ErrClosed is returned by Serve and ServeListener on a Server that was
// closed (or has served already and stopped).
var ErrClosed = errors.New("server: closed")
