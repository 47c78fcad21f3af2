package govlake.trino;

import io.trino.spi.Plugin;
import io.trino.spi.eventlistener.EventListenerFactory;
import io.trino.spi.security.PasswordAuthenticatorFactory;

import java.util.List;

/**
 * govlake's Trino plugin: the password authenticator `govlake-file`, which checks the same bcrypt
 * password file as Trino's file authenticator and also records every failed and refused sign-in
 * in govlake's audit spool (the audit receiver moves them into the hash-chained audit log), with
 * a lockout after repeated failures; and the event listener `govlake-spool`, which writes every
 * completed query into the same spool, so no query depends on the receiver being up to be
 * audited. Built from this source by govlake's setup against the SPI of the Trino release it runs.
 */
public final class SignInPlugin
        implements Plugin
{
    @Override
    public Iterable<PasswordAuthenticatorFactory> getPasswordAuthenticatorFactories()
    {
        return List.of(new SignInAuthenticatorFactory());
    }

    @Override
    public Iterable<EventListenerFactory> getEventListenerFactories()
    {
        return List.of(new SpoolEventListenerFactory());
    }
}
