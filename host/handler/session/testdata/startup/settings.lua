sender_id = 'startup-test'
sub_addr = 'tcp://127.0.0.1:1'
pub_addr = 'tcp://127.0.0.1:2'
io_threads = 1
