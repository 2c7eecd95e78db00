"""What several test modules share (no test module imports another): uploads, the browser, the
route table, the party world."""
