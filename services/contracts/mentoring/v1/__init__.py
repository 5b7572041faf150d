"""Generated protobuf code of mentoring.v1 (made by `make protos`)."""
