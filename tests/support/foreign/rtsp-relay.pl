#!/usr/bin/perl
# RTSP::Server (Debian's rtsp-server-perl) for camd's interop tests
# (tests/support/foreign_servers.rs): a relay that ffmpeg publishes to and that clients pull
# from, over UDP only. Takes the options of /usr/bin/rtsp-server-perl, and:
#  - prints one line when it listens (the tests wait for it), with stdout unbuffered;
#  - keeps --rtp_start_port: RTSP::Server resets its port counter to the package global
#    (20000) whenever no mount exists, ignoring the option, so the global is set too;
#  - exits on SIGINT/SIGTERM.
use strict;
use warnings;
use AnyEvent;
use RTSP::Server;

$| = 1;
my $server = RTSP::Server->new_with_options();
$RTSP::Server::RTP_START_PORT = $server->rtp_start_port;
$server->listen;
print "listening: clients on port " . $server->client_listen_port
    . ", sources on port " . $server->source_listen_port . "\n";
my $done = AnyEvent->condvar;
$SIG{INT} = sub { $done->send };
$SIG{TERM} = sub { $done->send };
$done->recv;
