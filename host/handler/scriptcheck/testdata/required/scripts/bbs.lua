-- The entry function lives in a module.
require 'board'
