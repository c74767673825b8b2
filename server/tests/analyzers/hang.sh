#!/bin/sh
# Never ends: a background child, then a long sleep. The runner must kill both.
sleep 1000 &
echo "child=$!"
sleep 1000
