# What `make install` puts where, and the Debian package CPack builds from it (scripts/dev package ->
# build/feedrouter_<version>_amd64.deb). docs/operations.md describes the installed service.

set(FEEDROUTER_PACKAGE_MAINTAINER "feedrouter maintainers <maintainers@feedrouter.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

# -- installed files ------------------------------------------------------------

install(TARGETS feedrouter RUNTIME DESTINATION bin)
install(FILES packaging/feedrouter.service DESTINATION lib/systemd/system)
install(FILES packaging/feedrouter.conf DESTINATION /etc/feedrouter)
# The feed actions and the script that installs them into OpenWhisk (docs/feed-actions.md).
# Every action install.sh deploys (its KINDS).
install(FILES feeds/alarm.js feeds/interval.js feeds/once.js feeds/changes.js feeds/poll.js feeds/webhook.js
              feeds/github.js feeds/kafka.js feeds/kafkaFeed.js feeds/messageHubFeed.js feeds/mqtt.js
              feeds/redisStream.js
        DESTINATION share/feedrouter/feeds)
install(FILES feeds/lib/feed_action.js DESTINATION share/feedrouter/feeds/lib)
install(PROGRAMS feeds/install.sh feeds/uninstall.sh DESTINATION share/feedrouter/feeds)
install(FILES README.md DESTINATION share/doc/feedrouter)
# Under docs/ as in the repository, so that the README's links work.
install(DIRECTORY docs/ DESTINATION share/doc/feedrouter/docs FILES_MATCHING PATTERN "*.md")
install(FILES packaging/copyright DESTINATION share/doc/feedrouter)

# -- the Debian package -----------------------------------------------------------

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME feedrouter)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${FEEDROUTER_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "event-feed provider for Apache OpenWhisk")
# One line per list item: CPack indents each line of the long description by one space, as Debian wants it.
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "feedrouter holds the connections to event sources on behalf of OpenWhisk"
  "triggers and fires each trigger when its events arrive: alarms (cron,"
  "intervals, one-shot dates), webhooks, polled URLs, CouchDB/Cloudant"
  "_changes feeds and Kafka topics, behind one lifecycle API. It runs as the"
  "systemd service feedrouter.service; the OpenWhisk feed actions and their"
  "install script are in /usr/share/feedrouter/feeds.")
# The libraries the binary links, as dpkg-shlibdeps finds them; adduser for the maintainer scripts' system user.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/conffiles"
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst"
    "${PROJECT_SOURCE_DIR}/packaging/debian/prerm"
    "${PROJECT_SOURCE_DIR}/packaging/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
