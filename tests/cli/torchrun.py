# torchrun, for the tests. Debian 12's torchrun (torch 1.13 on Python 3.11) fails before it
# starts a worker: Std.from_str compares an Enum with an int, which Python 3.11 no longer
# equates, and returns None. The tests need no stream redirection, so that parse is replaced;
# the launcher, its agent's TCPStore and the variables it sets are torch's own.
import sys

import torch.distributed.elastic.multiprocessing.api as api

api.Std.from_str = classmethod(lambda cls, value: api.Std.NONE)
from torch.distributed.run import main  # noqa: E402

sys.argv[0] = "torchrun"
main()
