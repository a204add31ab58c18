module github.com/mmbformat/mmb

go 1.26.8

require (
	github.com/edsrzf/mmap-go v1.2.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
