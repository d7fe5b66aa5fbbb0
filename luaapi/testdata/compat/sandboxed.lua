-- Run by loadfile with an environment set by setfenv.
answer = who .. ' says hi'
