"""Generated protobuf code of the mentoring.* proto packages (made by `make protos`)."""
